#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): h5shard preprocess on ONNX Runtime's WebGPU provider against
# the original pipeline (transformers on torch CUDA, batch 1, fp32) on a real-shape w2v-BERT export
# (random weights) and 300 synthesized LJSpeech-length clips, in one run.
#
# On a GPU machine without network, from the project root, with the kit carried along:
#   source .gpu-kit/on_device.sh && bash bench/gpu_check.sh
# Here on the CPU, small (3 x 32 model, 12 clips, torch CPU, ONNX Runtime CPU provider):
#   GPU_CHECK_TINY=1 bash bench/gpu_check.sh
# Work files go to GPU_CHECK_DIR (default /tmp/h5shard_gpu_check; kept, so a second run reuses the
# model and corpus); with OUT set, the figures also go to $OUT/gpu_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${GPU_CHECK_DIR:-/tmp/h5shard_gpu_check${GPU_CHECK_TINY:+_tiny}}
if [ -z "${GPU_CHECK_PYTHON:-}" ]; then
  if [ "${GPU_CHECK_TINY:-}" = 1 ] && [ -x "${H5SHARD_VENV:-$HOME/.cache/h5shard/venv}/bin/python" ]; then
    GPU_CHECK_PYTHON=${H5SHARD_VENV:-$HOME/.cache/h5shard/venv}/bin/python
  else
    GPU_CHECK_PYTHON=python3
  fi
fi
if [ -z "${DENO_CMD:-}" ]; then
  if command -v deno >/dev/null; then
    export DENO_CMD="deno run --cached-only -A"
  else
    export DENO_CMD="npx -y deno@2.9.6 run -A"
  fi
fi
if [ "${GPU_CHECK_TINY:-}" != 1 ]; then
  nvidia-smi -L || echo "warning: nvidia-smi finds no GPU" >&2
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}" >&2
fi
"$GPU_CHECK_PYTHON" -c "import torch, transformers, onnx, onnxruntime, h5py; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__)"
exec "$GPU_CHECK_PYTHON" bench/gpu_check.py "$work"
