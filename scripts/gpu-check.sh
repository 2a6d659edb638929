#!/usr/bin/env bash
# The GPU checks, run on a machine with a CUDA GPU and a PyTorch built with
# CUDA, from the repository root, with the archive scripts/gpu-bundle.sh
# made (qfuse's tools and their libraries):
#
#   ./scripts/gpu-check.sh [steps...]     steps: test bench models (default: all)
#
#   test    test/Integration/gpu-vs-pytorch.py: qfuse-run --device=cuda against
#           PyTorch, the CPU and the schedule as CPU loops
#   bench   bench/gpu_bench.py: qfuse-bench --device=cuda against cuDNN
#   bench-nosplit  the same for ResNet-18's 3x3 stages at batch 1 with
#           target-blocks=0 (no split reductions), an A/B run
#   models  bench/models.py --device cuda: ResNet-18 and MobileNetV2
#   sweep   bench/gpu_bench.py once per set of --qfuse-lower-to-nvvm options
#           in $GPU_SWEEP (';'-separated), fused forms of $GPU_SWEEP_LAYERS
#           (default: ResNet-18's) at $GPU_SWEEP_BATCHES (default 1,32)
#
# Logs go to $OUT (the device tool's folder) or /tmp/qfuse-gpu-out; each step
# stops after $STEP_TIMEOUT seconds (default 540); each
# step's exit status is printed at the end.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/qfuse-gpu-out}
dest=/tmp/qfuse-gpu
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(test bench models)
mkdir -p "$dest" "$out"
tar -C "$dest" -xJf "$root/.gpu-bundle/qfuse.tar.xz" || exit 2
export LD_LIBRARY_PATH="$dest/lib" QFUSE_BIN="$dest/bin"
export PYTHONPATH="$root/test/lib" PYTHONUNBUFFERED=1
[ -d /usr/local/cuda ] && export CUDA_HOME=/usr/local/cuda
py=${PYTHON:-python3}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem \
  --format=csv | tee "$out/gpu.txt"
"$py" -c 'import torch; print("torch", torch.__version__, "cudnn",
  torch.backends.cudnn.version(), torch.cuda.get_device_name())' |
  tee -a "$out/gpu.txt"
"$dest/bin/qfuse-run" --list-devices | tee -a "$out/gpu.txt" || exit 3

status=()
run_step() {
  local name=$1
  shift
  echo "== $name: $*"
  timeout "${STEP_TIMEOUT:-540}" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 60 "$out/$name.log"
  status+=("$name: exit $rc")
}
for s in "${steps[@]}"; do
  case $s in
  test) run_step test "$py" test/Integration/gpu-vs-pytorch.py "$root" ;;
  bench) run_step bench "$py" bench/gpu_bench.py --build "$dest" ;;
  bench-nosplit) run_step bench-nosplit "$py" bench/gpu_bench.py \
            --build "$dest" --layers l1,l2,l3,l4 --batches 1 --forms fused \
            --lowering target-blocks=0 ;;
  models) run_step models "$py" bench/models.py --build "$dest" \
            --device cuda --repeat 50 --kernel-profile ;;
  sweep)
    IFS=';' read -r -a variants <<<"${GPU_SWEEP:-}"
    for i in "${!variants[@]}"; do
      run_step "sweep$i" "$py" bench/gpu_bench.py --build "$dest" \
        --layers "${GPU_SWEEP_LAYERS:-r18_}" --forms fused \
        --batches "${GPU_SWEEP_BATCHES:-1,32}" --lowering "${variants[$i]}"
    done ;;
  *) echo "unknown step $s"; exit 2 ;;
  esac
done
printf '%s\n' "${status[@]}"
