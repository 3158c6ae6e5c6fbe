# Reference for `npm run bench -- scale`: what two independent one-thread processes get from this machine.
# Runs the anchor's ResNet18 encoder (shared/anchors/torch_bench.py) in eval/no-grad on batches of 64 images for a
# fixed time and prints one JSON line with img/s. The bench runs it alone, then two copies at once: the sum of the
# two rates over the lone rate is the machine's own two-process speedup (shared caches, memory bandwidth, clocks),
# the ceiling our queue path is compared against.
import argparse, json, sys, time

ap = argparse.ArgumentParser()
ap.add_argument('--anchors', required=True, help='folder holding torch_bench.py')
ap.add_argument('--seconds', type=float, default=8.0)
ap.add_argument('--size', type=int, default=64)
ap.add_argument('--start-at', type=float, default=0.0, help='wall-clock time (s since epoch) to start timing at')
a = ap.parse_args()
sys.path.insert(0, a.anchors)
import torch  # noqa: E402
from torch_bench import Encoder  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)
enc = Encoder().eval()
x = torch.rand(64, 3, a.size, a.size)
with torch.no_grad():
    enc(x)  # warm-up: allocator and kernels
    while time.time() < a.start_at:  # so two copies time the same window
        time.sleep(0.005)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        enc(x)
        n += 64
    dt = time.perf_counter() - t0
print(json.dumps(dict(engine='pytorch', version=torch.__version__, threads=torch.get_num_threads(), images=n, seconds=round(dt, 3), img_s=round(n / dt, 1))), flush=True)
