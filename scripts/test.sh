#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build, and run
# every test (lit + FileCheck regression tests, numerical tests against
# PyTorch, the downstream find_package test). Ends with lit's counts as one
# "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
set +e
cmake --build build --target check-qfuse 2>&1 | tee build/check-qfuse.log
rc=${PIPESTATUS[0]}
set -e
# lit pads the labels when several kinds of result occur ("Passed     : 45").
count() { grep -E "^\s+$1\s*:" build/check-qfuse.log | grep -oE '[0-9]+' | head -1; }
failed=$(( $(count Failed || echo 0) + $(count 'Unexpectedly Passed' || echo 0) ))
unsupported=$(count Unsupported || echo 0)
echo "$(count Passed || echo 0) passed, ${failed} failed" \
  "(${unsupported} unsupported here: a missing lit feature, e.g. cuda-gpu)"
exit "$rc"
