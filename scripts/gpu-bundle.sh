#!/usr/bin/env bash
# Packs qfuse's tools and the shared libraries they load into one archive,
# .gpu-bundle/qfuse.tar.xz, for a machine that has a CUDA GPU but no LLVM 22
# (the device machines lent to some tasks: Ubuntu with CUDA and PyTorch,
# nothing installable). scripts/gpu-check.sh unpacks and runs it there.
#
# libLLVM names libz3 and libxml2 as needed libraries, but qfuse never calls
# into them (no SMT-based analysis, no Windows manifests), and together with
# libxml2's ICU they would push the archive over the 64 MiB a device call may
# carry. The archive therefore holds two empty stand-ins with the same
# sonames and symbol versions (libLLVM binds functions lazily; xmlFree, the
# one data symbol it takes from libxml2, is defined as a null pointer).
#
#   ./scripts/gpu-bundle.sh [build-dir]      (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
# qfuse-bench is built only where oneDNN was found.
tools=()
for t in qfuse-run qfuse-bench qfuse-opt qfuse-translate; do
  [ -x "$build/bin/$t" ] && tools+=("$t")
done
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$root/.gpu-bundle"

for t in "${tools[@]}"; do
  strip -o "$stage/bin/$t" "$build/bin/$t"
done
# Every library the tools load, except glibc's own and the two stand-ins.
for t in "${tools[@]}"; do ldd "$build/bin/$t"; done |
  awk '/=>/ {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libgcc_s|libdl|libpthread|librt|libz3|libxml2|libicu[a-z]*)\.so' |
  while read -r lib; do
    strip -o "$stage/lib/$(basename "$lib")" "$lib"
  done

# The libraries the JIT loads by path (MLIR's runner utils, libomp), under
# the file names qfuse was configured with: qfuse-run looks for them in the
# lib/ folder beside its bin/ folder when the configured path is missing.
for var in QFUSE_MLIR_C_RUNNER_UTILS_LIB QFUSE_LIBOMP_LIB; do
  lib=$(sed -n "s/^$var:[A-Z]*=//p" "$build/CMakeCache.txt")
  [ -n "$lib" ] && [ -e "$lib" ] || continue
  strip -o "$stage/lib/$(basename "$lib")" "$(readlink -f "$lib")"
  ldd "$lib" | awk '/=>/ {print $3}' | { grep -E '/libmlir_' || true; } |
    while read -r dep; do
      strip -o "$stage/lib/$(basename "$dep")" "$dep"
    done
done

cat >"$stage/stub.c" <<'C'
void qfuse_gpu_bundle_stub_a(void) {}
void qfuse_gpu_bundle_stub_b(void) {}
void *xmlFree = 0;
C
cat >"$stage/xml.map" <<'MAP'
LIBXML2_2.4.30 { global: qfuse_gpu_bundle_stub_a; xmlFree; local: *; };
LIBXML2_2.6.0 { global: qfuse_gpu_bundle_stub_b; } LIBXML2_2.4.30;
MAP
cc -shared -fPIC -o "$stage/lib/libxml2.so.2" -Wl,-soname,libxml2.so.2 \
  -Wl,--version-script,"$stage/xml.map" "$stage/stub.c"
cc -shared -fPIC -o "$stage/lib/libz3.so.4" -Wl,-soname,libz3.so.4 \
  "$stage/stub.c"
rm "$stage/stub.c" "$stage/xml.map"

# The stand-ins must be enough for every tool to start.
for t in "${tools[@]}"; do
  LD_LIBRARY_PATH="$stage/lib" "$stage/bin/$t" --version >/dev/null
done
tar -C "$stage" -cf - bin lib | xz -T2 -9 >"$root/.gpu-bundle/qfuse.tar.xz"
ls -l "$root/.gpu-bundle/qfuse.tar.xz"
