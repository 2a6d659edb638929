#!/usr/bin/env bash
# Configures (once) and builds qfuse into ./build with Ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/setup.sh"
JOBS="${JOBS:-$(nproc)}"
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j"$JOBS"
