#!/bin/bash
# Synthetic batch effect on real Jurkat cells (issue 13): the full experiment behind notes/issue-13.md.
#   clean       AE trained on the cells as acquired (batch column, no shift): the reference 7-class score
#   shifted     AE trained on the shifted data (batch B blurred, noisier, other gain/offset): no remedy
#   paired_cW   AE + group contrastive (NT-Xent, weight W; W=0: the same data without the term) on re-imaged pairs (every cell once per batch,
#               groups=[cell], 2 per group in each batch), embedded on the shifted data
# Each embedding is evaluated with batch metrics before/after per-batch centre-scale and PCA+centre-scale on G1
# controls. Usage: bash scripts/experiments/batch-effect.sh [work dir] (about 3 h on 2 busy cores)
set -e
cd "$(dirname "$0")/../.."
W=${1:-scratch/batch-effect}
RUNS=$W/runs
[ -f $W/shifted.csv ] || node --import tsx scripts/experiments/batch-effect-data.ts $W
COMMON="model=resnet18_ae latent_dim=32 data.image_size=32 batch_size=64 data.workers=0 engine.threads=1 runs_dir=$RUNS log_every=20 optim.warmup_epochs=0.5 early_stopping.patience=0"
EVAL="batch=batch control=label=G1 umap=false models=random_forest threads=1"
for n in clean shifted; do
  [ -f $RUNS/$n/run.json ] || nice -n 10 node bin/bie.js train $COMMON epochs=10 data.path=$W/$n.csv name=$n
  [ -f $RUNS/$n/embeddings.parquet ] || nice -n 10 node bin/bie.js embed $RUNS/$n
  [ -f $RUNS/$n/eval_batch.csv ] || nice -n 10 node bin/bie.js evaluate $RUNS/$n $EVAL
done
# Paired runs see every cell twice per epoch: 5 epochs = the same number of steps as 10 epochs above.
for w in 0 0.01 0.05; do
  n=paired_c${w#0.}
  [ -f $RUNS/$n/run.json ] || nice -n 10 node bin/bie.js train $COMMON epochs=5 data.path=$W/paired.csv data.group_column=cell \
    contrastive.weight=$w contrastive.groups=[cell] contrastive.per_group=2 name=$n
  [ -d $RUNS/$n/embed_shifted.csv ] || nice -n 10 node bin/bie.js embed $RUNS/$n data.path=$W/shifted.csv
  [ -f $RUNS/$n/embed_shifted.csv/eval_batch.csv ] || nice -n 10 node bin/bie.js evaluate $RUNS/$n/embed_shifted.csv $EVAL
done
for f in $RUNS/*/eval_batch.csv $RUNS/*/embed_shifted.csv/eval_batch.csv; do echo "== $f"; cat $f; done
