#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build, and run the
# main job on the bundled example: fold batch-norm and fuse ReLU in a
# ResNet-style basic block, printing the IR before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
example=examples/resnet_block.mlir
echo "=== before: $example ==="
cat "$example"
echo
echo "=== after: qfuse-opt --qfuse-ptq $example (remarks on stderr) ==="
./build/bin/qfuse-opt --qfuse-ptq "$example"
