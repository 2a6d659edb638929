#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, build, and run
# every test (lit + FileCheck regression tests, numerical tests against
# PyTorch, downstream find_package test). Prints lit's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cmake --build build --target check-qfuse
