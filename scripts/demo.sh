#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build, and run the
# main job on the bundled example: fold batch-norm and fuse ReLU in a
# ResNet-style basic block, printing the IR before and after, and the remark
# qfuse gives for every fold it did or did not do; then a PTQ-calibrated block
# taken to integer kernels and run against its fake-quant form.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
example=examples/resnet_block.mlir
opt=./build/bin/qfuse-opt
# Weights are elided in the printout; the files keep every value.
show="--mlir-elide-elementsattrs-if-larger=8"
echo "=== before: $example ==="
"$opt" "$show" "$example"
echo
echo "=== after: qfuse-opt --qfuse-ptq $example ==="
"$opt" --qfuse-ptq "$show" \
  --remarks-filter=fold-bn --remark-format=emitRemark "$example" 2>&1
echo
# The same for a PTQ-calibrated block (fake-quant everywhere): all the way to
# integer kernels, each conversion a remark, and the int8 result against the
# fake-quant graph on the same random input.
int8=examples/int8_block.mlir
echo "=== int8: qfuse-opt --qfuse-ptq=int8=true $int8 ==="
"$opt" --pass-pipeline='builtin.module(qfuse-ptq{int8=true})' "$show" \
  --remarks-filter=quantize --remark-format=emitRemark "$int8" 2>&1
echo
echo "=== qfuse-run $int8 --compare-after='qfuse-ptq{int8=true}' ==="
./build/bin/qfuse-run "$int8" --random-inputs 1 --compare-after='qfuse-ptq{int8=true}'
echo "(one output quantization step is the last scale in the file: $(grep -o '%s2 = arith.constant dense<[^>]*>' "$int8" | sed 's/.*dense<\(.*\)>/\1/'))"
