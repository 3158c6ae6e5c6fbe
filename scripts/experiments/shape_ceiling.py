# How far can shape alone go on BBBC010's labels? (issue 5). Hand-made shape features beyond regionprops + EFD —
# midline (skeleton) length, straightness, curvature, width profile; outline roughness at several scales — each
# alone and with the classical ones, on the anchors' protocol (StandardScaler + RF 100 trees seed 42,
# StratifiedKFold 5 shuffle seed 42, macro F1). Then where the errors are (treated/untreated columns).
# Usage: /usr/bin/python3 ../shared/anchors/bbbc010_baseline.py ../shared/data/bbbc010 /tmp/anchors_out
#        /usr/bin/python3 scripts/experiments/shape_ceiling.py [/tmp/anchors_out/bbbc010_features.csv]
# Needs networkx (Debian python3-networkx) besides the anchors' packages. ~1 min.
import sys
import numpy as np, pandas as pd, networkx as nx
from scipy import ndimage
from skimage import io, measure, morphology
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = "../shared/data/bbbc010/"
labels = pd.read_csv(DATA + "labels.csv")
classical = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "/tmp/anchors_out/bbbc010_features.csv")
classical = classical[[c for c in classical.columns if c in ("area", "perimeter", "major_axis_length", "minor_axis_length", "orientation", "eccentricity", "solidity", "extent") or c.startswith("efd_")]]


def largest(mask):
    lab = measure.label(mask, connectivity=1)
    if lab.max() > 1:
        sizes = np.bincount(lab.ravel()); sizes[0] = 0
        mask = lab == sizes.argmax()
    return mask


def midline(mask):
    """The skeleton's longest path (two Dijkstra sweeps), as (row, col) points."""
    sk = morphology.skeletonize(mask)
    ys, xs = np.nonzero(sk)
    idx = {(y, x): i for i, (y, x) in enumerate(zip(ys, xs))}
    g = nx.Graph()
    for (y, x), i in idx.items():
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if (dy or dx) and (y + dy, x + dx) in idx:
                    g.add_edge(i, idx[(y + dy, x + dx)], weight=np.hypot(dy, dx))
    if g.number_of_nodes() < 2:
        return np.stack([ys, xs], 1).astype(float)
    d = nx.single_source_dijkstra_path_length(g, next(iter(g.nodes)))
    a = max(d, key=d.get)
    d, paths = nx.single_source_dijkstra(g, a)
    return np.array([[ys[i], xs[i]] for i in paths[max(d, key=d.get)]], float)


def midline_features(mask):
    p = midline(mask)
    steps = np.hypot(*np.diff(p, axis=0).T) if len(p) > 1 else np.zeros(0)
    length = max(steps.sum(), 1.0)
    f = {"mid_length": length, "mid_end_to_end": np.hypot(*(p[-1] - p[0])) if len(p) > 1 else 1.0}
    f["mid_straightness"] = f["mid_end_to_end"] / length
    f["mid_width"] = mask.sum() / length
    t = np.r_[0, np.cumsum(steps)]
    s = np.linspace(0, t[-1], 32)
    y = ndimage.gaussian_filter1d(np.interp(s, t, p[:, 0]), 1.5, mode="nearest")
    x = ndimage.gaussian_filter1d(np.interp(s, t, p[:, 1]), 1.5, mode="nearest")
    k = np.diff(np.unwrap(np.arctan2(np.diff(y), np.diff(x)))) if len(p) > 8 else np.zeros(2)
    f.update(k_abs=np.abs(k).sum(), k_net=abs(k.sum()), k_max=np.abs(k).max(), k_sd=k.std())
    chord = np.array([x[-1] - x[0], y[-1] - y[0]]); n = np.linalg.norm(chord) + 1e-9
    dev = np.abs((x - x[0]) * chord[1] - (y - y[0]) * chord[0]) / n
    f.update(dev_max=dev.max() / length, dev_mean=dev.mean() / length)
    w = ndimage.distance_transform_edt(mask)[p[:, 0].astype(int), p[:, 1].astype(int)]
    f.update(w_max=w.max(), w_mean=w.mean(), w_sd=w.std())
    return f


def roughness_features(mask):
    c = max(measure.find_contours(np.pad(mask, 1).astype(float), 0.5), key=len)[:-1]
    closed = lambda a: np.r_[a, a[:1]]
    length0 = np.hypot(*np.diff(closed(c), axis=0).T).sum()
    f = {}
    for s in (1, 2, 4, 8):
        cy, cx = (ndimage.gaussian_filter1d(c[:, i], s, mode="wrap") for i in (0, 1))
        f[f"len_ratio_{s}"] = np.hypot(np.diff(closed(cy)), np.diff(closed(cx))).sum() / length0
        f[f"residual_{s}"] = np.sqrt(np.mean((c[:, 0] - cy) ** 2 + (c[:, 1] - cx) ** 2))
    return f


rows_mid, rows_rough = [], []
for f in labels.mask_file:
    m = io.imread(DATA + f)
    m = largest((m[..., 0] if m.ndim == 3 else m) > 0)
    rows_mid.append(midline_features(ndimage.binary_fill_holes(m)))
    rows_rough.append(roughness_features(m))
mid, rough = pd.DataFrame(rows_mid), pd.DataFrame(rows_rough)


def cv_f1(x, col):
    y = labels[col]; ok = y.notna().values
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(100, random_state=42))
    s = cross_val_score(pipe, x[ok], y[ok].values, cv=StratifiedKFold(5, shuffle=True, random_state=42), scoring="f1_macro")
    return f"{s.mean():.3f} ± {s.std():.3f}"


sets = {
    "regionprops + EFD": classical.values,
    "midline (skeleton, curvature, width)": mid.values,
    "roughness": rough.values,
    "regionprops + EFD + midline": np.hstack([classical.values, mid.values]),
    "regionprops + EFD + midline + roughness": np.hstack([classical.values, mid.values, rough.values]),
}
print("| features | label_bioimage_embed | label_well |\n|---|---|---|")
for name, x in sets.items():
    print(f"| {name} | {cv_f1(x, 'label_bioimage_embed')} | {cv_f1(x, 'label_well')} |")

# Where the errors are: out-of-fold predictions of the richest set on label_bioimage_embed.
y = labels.label_bioimage_embed; ok = y.notna().values
pipe = make_pipeline(StandardScaler(), RandomForestClassifier(100, random_state=42))
pred = cross_val_predict(pipe, np.hstack([classical.values, mid.values, rough.values])[ok], y[ok].values, cv=StratifiedKFold(5, shuffle=True, random_state=42))
d = labels[ok].assign(wrong=pred != y[ok].values, half=np.where(labels[ok].column <= 12, "columns 1-12 (treated)", "columns 13-24 (untreated)"))
print(pd.crosstab([d.half, d.label_bioimage_embed], d.wrong, margins=True))
