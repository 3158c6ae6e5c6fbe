# Does an encoder with circular padding (start-point shifts of the outline become circular shifts of the feature
# maps) give a better shape embedding than zero padding? (issue 5). A plain PyTorch version of our shape AE:
# torchvision ResNet18 encoder (1 channel, latent 64; every padded conv circular and a circularly padded max-pool
# in the "circular" arm), the reference decoder, MSE on max-normalised N = 64 matrices, random start point and
# direction per item, AdamW 1e-3, batch 32, 40 epochs on all 1407 masks; embedding = mean over 8 start points × 2
# directions. Writes scratch/s6/circ_<mode>.npy (rows in labels.csv order) for a random-forest check.
# Usage: node --import tsx scripts/experiments/shape_dump_matrices.ts (writes the matrices scratch/s6/D64.npy), then
#        /usr/bin/python3 scripts/experiments/shape_circular_padding.py circular|zeros [epochs]   (~10 min each)
# Needs torchvision (Debian python3-torchvision) besides the anchors' packages.
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, torchvision, sys, time
torch.set_num_threads(1); torch.manual_seed(0); np.random.seed(0)
mode=sys.argv[1]; E=int(sys.argv[2]) if len(sys.argv)>2 else 40
D=np.load('scratch/s6/D64.npy').astype(np.float32); D/=D.max(axis=(1,2),keepdims=True); N=64
X=torch.tensor(D)[:,None]
class CircPool(nn.Module):
    def forward(self,x): return F.max_pool2d(F.pad(x,(1,1,1,1),mode='circular'),3,2,0)
def encoder():
    r=torchvision.models.resnet18(num_classes=64)
    r.conv1=nn.Conv2d(1,64,7,2,3,bias=False)
    if mode=='circular':
        for m in r.modules():
            if isinstance(m,nn.Conv2d) and m.padding!=(0,0): m.padding_mode='circular'
        r.maxpool=CircPool()
    return r
def decoder():
    layers=[]; c=512
    for o in (256,128,64,32,16): layers+= [nn.Upsample(scale_factor=2),nn.Conv2d(c,o,3,padding=1),nn.BatchNorm2d(o),nn.ReLU()]; c=o
    return nn.Sequential(*layers,nn.Conv2d(c,1,3,padding=1))
enc,dec,fc=encoder(),decoder(),nn.Linear(64,512*2*2)
params=list(enc.parameters())+list(dec.parameters())+list(fc.parameters())
opt=torch.optim.AdamW(params,1e-3)
def sym(x):
    k=np.random.randint(N); x=torch.roll(x,(-k,-k),(1,2))
    if np.random.rand()<0.5: idx=(-torch.arange(N))%N; x=x[:,idx][:,:,idx]
    return x
t0=time.time()
for e in range(E):
    enc.train(); dec.train(); perm=np.random.permutation(len(X)); tot=0
    for i in range(0,len(perm)-31,32):
        b=torch.stack([sym(X[j]) for j in perm[i:i+32]])
        z=enc(b); y=dec(fc(z).view(-1,512,2,2)); loss=F.mse_loss(y,b)
        opt.zero_grad(); loss.backward(); opt.step(); tot+=loss.item()
    if e%10==9: print(mode,'epoch',e+1,'loss',tot/(len(perm)//32),f'{time.time()-t0:.0f}s',flush=True)
enc.eval(); out=[]
with torch.no_grad():
    idx=(-torch.arange(N))%N
    for i in range(0,len(X),64):
        b=X[i:i+64]; vs=[]
        for rev in (False,True):
            bb=b[:,:,idx][:,:,:,idx] if rev else b
            for s in range(8): vs.append(enc(torch.roll(bb,(-s*8,-s*8),(2,3))))
        out.append(torch.stack(vs).mean(0))
np.save(f'scratch/s6/circ_{mode}.npy',torch.cat(out).numpy())
