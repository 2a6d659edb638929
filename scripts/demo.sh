#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build, and run the
# main job on the bundled example: fold batch-norm and fuse ReLU in a
# ResNet-style basic block, printing the IR before and after, and the remark
# qfuse gives for every fold it did or did not do.
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
