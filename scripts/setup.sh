#!/usr/bin/env bash
# Installs the Debian packages qfuse needs, when any is missing. Idempotent and
# quiet when everything is already present.
set -euo pipefail

PKGS=(
  cmake ninja-build g++
  llvm-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  libdnnl-dev libomp-22-dev
  # Debian's oneDNN is built with its OpenCL GPU runtime: dnnl-config.cmake
  # runs find_package(OpenCL REQUIRED), which fails configuring without the
  # OpenCL headers (only a Recommends of libdnnl-dev).
  ocl-icd-opencl-dev
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "qfuse setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
