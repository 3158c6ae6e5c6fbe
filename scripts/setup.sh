#!/usr/bin/env bash
# One-command setup on a fresh Debian machine: system packages (libtorch and friends), npm packages,
# the native engine addon. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# libtorch for the engine; the rest are the reference tools tests and benchmarks compare against,
# Chromium for report/explorer tests, Redis for the job-queue tests, Gloo for distributed training.
for p in libtorch-dev libgloo-dev python3-torch python3-torchvision python3-sklearn python3-skimage python3-scipy python3-pandas \
         python3-tifffile python3-zarr redis-server chromium slurmctld slurmd slurm-client munge; do
  have_pkg "$p" || need_apt+=("$p")
done
if [ -z "${LIBTORCH:-}" ] && [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
  echo "setup: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "setup: npm packages"
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

echo "setup: building the libtorch engine addon (about a minute)"
npx node-gyp rebuild --directory native -j 2 --loglevel=error >/tmp/bie-native-build.log 2>&1 || {
  tail -40 /tmp/bie-native-build.log
  echo "setup: building the engine failed. It needs libtorch: Debian's libtorch-dev (apt-get install libtorch-dev) or LIBTORCH=/path/to/libtorch." >&2
  exit 1
}
node --import tsx -e 'import("./src/engine/runtime.ts").then(m => console.log("setup: engine ready, libtorch", m.engineInfo().torch))'
