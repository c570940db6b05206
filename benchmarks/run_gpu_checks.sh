#!/usr/bin/env bash
# GPU checks, run on a CUDA machine from the repository root (see docs/performance.md):
# the gpu-marked tests, a GPU-trained model saved for a CPU reload check, and the
# training/inference benchmark on the GPU. Results go to $OUT (default /tmp/gpu-out).
# Wheels for packages missing on that machine may be carried in .whl/.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, skorch, sklearn; print('torch', torch.__version__, 'skorch', skorch.__version__, 'sklearn', sklearn.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"
python3 -m pytest -p no:cacheprovider -p no:warnings -o addopts="" -q -m gpu tests/ 2>&1 | tail -n 15 | tee "$OUT/gpu_tests.txt"
python3 benchmarks/save_gpu_model.py "$OUT" 2>&1 | tee "$OUT/gpu_model.txt"
# fit and predict against the bare loops at batch 64 and 512, fp32 and bf16, and predict
# through compile=True's frozen graph (issue 29)
python3 benchmarks/bench_training.py --device cuda --n-samples 16384 --batch-size 64 \
    --batches 64,512 --compile 2>&1 | tee "$OUT/bench_cuda.txt"
