#!/bin/bash
# Fine-tuning on Jurkat (issue 13): an AE trained on half of the classes (A: G1, S_phase, Anaphase; 1815 cells),
# then on the other half (B: G2, Prophase, Metaphase, Telophase; 1603 cells) either from scratch or fine-tuned
# from A (all layers, or with the stem and first two stages frozen). Same config, same split of B, 10 epochs each;
# the val-loss curves come from finetune-curves.ts. Usage: bash scripts/experiments/finetune.sh [work dir]
set -e
cd "$(dirname "$0")/../.."
W=${1:-scratch/finetune}
RUNS=$W/runs
mkdir -p $W
/usr/bin/python3 - "$W" <<'PY'
import csv, sys
rows = list(csv.DictReader(open("/work/shared/data/jurkat/cells_exp1.csv")))
A = {"G1", "S_phase", "Anaphase"}
for name, keep in [("A", lambda l: l in A), ("B", lambda l: l not in A)]:
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        f.write("id,path,label\n")
        for r in rows:
            if keep(r["label"]):
                i = r["index"].zfill(4); f.write(f"c{i},/work/shared/data/jurkat/cells_exp1/{r['label']}/{i}.tif,{r['label']}\n")
PY
COMMON="model=resnet18_ae latent_dim=32 data.image_size=32 batch_size=64 epochs=10 data.workers=0 engine.threads=1 runs_dir=$RUNS log_every=20 optim.warmup_epochs=0.5 early_stopping.patience=0"
[ -f $RUNS/ftA/run.json ] || nice -n 10 node bin/bie.js train $COMMON data.path=$W/A.csv name=ftA
[ -f $RUNS/scratchB/run.json ] || nice -n 10 node bin/bie.js train $COMMON data.path=$W/B.csv name=scratchB
[ -f $RUNS/ftB/run.json ] || nice -n 10 node bin/bie.js finetune $RUNS/ftA data.path=$W/B.csv name=ftB
[ -f $RUNS/ftB_frozen/run.json ] || nice -n 10 node bin/bie.js finetune $RUNS/ftA data.path=$W/B.csv name=ftB_frozen finetune.freeze=stages:2
node --import tsx scripts/experiments/finetune-curves.ts $RUNS/scratchB $RUNS/ftB $RUNS/ftB_frozen
