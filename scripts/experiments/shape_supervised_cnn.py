# Supervised upper bound for shape-only classification on BBBC010 (issue 5): a small CNN trained WITH the labels
# on centred 192×192 mask crops (downsampled to 96×96), random rotation + reflection, 8-fold test-time
# augmentation, 25 epochs, on the anchors' folds (StratifiedKFold 5 shuffle seed 42), macro F1.
# Usage: /usr/bin/python3 scripts/experiments/shape_supervised_cnn.py [label_bioimage_embed|label_well] [epochs]
# ~7 min on one thread.
import numpy as np, pandas as pd, torch, torch.nn as nn, torch.nn.functional as F, sys, time
from skimage import io
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import f1_score
torch.set_num_threads(1); torch.manual_seed(0); np.random.seed(0)
col=sys.argv[1] if len(sys.argv)>1 else 'label_bioimage_embed'
D='../shared/data/bbbc010/'
lab=pd.read_csv(D+'labels.csv'); ok=lab[col].notna().values
X=[]
for f in lab.mask_file[ok]:
    m=io.imread(D+f); m=((m[...,0] if m.ndim==3 else m)>0).astype(np.float32)
    ys,xs=np.nonzero(m); cy,cx=int(ys.mean()),int(xs.mean())
    X.append(np.pad(m,100)[cy+100-96:cy+100+96, cx+100-96:cx+100+96])
X=torch.tensor(np.stack(X))[:,None]; X=F.avg_pool2d(X,2)  # 96x96
y=torch.tensor((lab[col][ok].values=='alive').astype(np.int64))
def net():
    c=lambda i,o: nn.Sequential(nn.Conv2d(i,o,3,padding=1),nn.BatchNorm2d(o),nn.ReLU(),nn.MaxPool2d(2))
    return nn.Sequential(c(1,16),c(16,32),c(32,64),c(64,64),c(64,128),nn.AdaptiveAvgPool2d(1),nn.Flatten(),nn.Dropout(0.3),nn.Linear(128,2))
def aug(x):
    th=torch.rand(len(x))*2*np.pi; s=torch.where(torch.rand(len(x))<0.5,-1.0,1.0)
    A=torch.zeros(len(x),2,3); A[:,0,0]=torch.cos(th)*s; A[:,0,1]=-torch.sin(th); A[:,1,0]=torch.sin(th)*s; A[:,1,1]=torch.cos(th)
    g=F.affine_grid(A,x.shape,align_corners=False); return F.grid_sample(x,g,align_corners=False)
cv=StratifiedKFold(5,shuffle=True,random_state=42); f1s=[]
for k,(tr,te) in enumerate(cv.split(X,y)):
    m=net(); opt=torch.optim.AdamW(m.parameters(),2e-3,weight_decay=1e-4); E=int(sys.argv[2]) if len(sys.argv)>2 else 25
    sched=torch.optim.lr_scheduler.OneCycleLR(opt,2e-3,total_steps=E*((len(tr)+31)//32))
    t0=time.time()
    for e in range(E):
        m.train(); perm=np.random.permutation(tr)
        for i in range(0,len(perm),32):
            b=perm[i:i+32]; loss=F.cross_entropy(m(aug(X[b])),y[b]); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    m.eval()
    with torch.no_grad():
        # test-time augmentation: 8 rotations
        p=sum(F.softmax(m(aug(X[te]) if r else X[te]),1) for r in range(8))
    f=f1_score(y[te],p.argmax(1),average='macro'); f1s.append(f)
    print(f'fold {k} macroF1 {f:.3f} ({time.time()-t0:.0f}s)',flush=True)
print(col,'supervised CNN macro F1 %.3f ± %.3f'%(np.mean(f1s),np.std(f1s)))
