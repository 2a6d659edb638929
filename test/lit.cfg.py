# -*- Python -*-
# lit configuration for qfuse's regression and integration tests.

import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "QFUSE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qfuse_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "qfuse-capi-test.c", "fake-cuda-driver.c",
                   "errors.test.mlir",
                   "Downstream", "lib"]

# MLIR's NVVM serialization finds libdevice through the CUDA toolkit named by
# CUDA_ROOT / CUDA_HOME / CUDA_PATH.
llvm_config.with_system_environment(["HOME", "TMP", "TEMP", "CUDA_ROOT",
                                     "CUDA_HOME", "CUDA_PATH"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools_dir = os.path.join(config.qfuse_obj_root, "bin")
libs_dir = os.path.join(config.qfuse_obj_root, "lib")
llvm_config.add_tool_substitutions(["qfuse-opt", "qfuse-run", "qfuse-translate", "qfuse-bench", "qfuse-capi-test", "mlir-opt", "mlir-translate", "llc"],
                                   [tools_dir, config.llvm_tools_dir])

config.substitutions.append(("%qfuse_libs", libs_dir))
config.substitutions.append(("%qfuse_src", config.qfuse_src_root))
config.substitutions.append(("%qfuse_obj_root", config.qfuse_obj_root))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%mlir_dir", config.mlir_dir))
config.substitutions.append(("%onnx_node", "/usr/share/libonnx-testdata/data/node"))
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%cxx", config.cxx_compiler))
# The directory holding the stand-in CUDA driver (libcuda.so.1).
config.substitutions.append(("%fake_cuda",
                             os.path.join(config.qfuse_obj_root, "test",
                                          "Runtime", "fake-cuda")))

# The numerical oracle is Debian's CPU PyTorch, run with the system python
# (not whatever python3 comes first on PATH).
python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
config.substitutions.append(("%python", python))
config.environment["PYTHONPATH"] = os.path.join(config.qfuse_src_root, "test",
                                                "lib")
config.environment["QFUSE_BIN"] = tools_dir
config.environment["QFUSE_LLVM_TOOLS"] = config.llvm_tools_dir

import subprocess
try:
    subprocess.run([python, "-c", "import torch, numpy"], check=True,
                   capture_output=True)
    config.available_features.add("torch")
except Exception:
    pass

if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")

if os.path.exists(os.path.join(tools_dir, "qfuse-bench")):
    config.available_features.add("qfuse-bench")

# A real GPU: qfuse-run --list-devices succeeds (a driver, a device).
try:
    probe = subprocess.run([os.path.join(tools_dir, "qfuse-run"),
                            "--list-devices"], capture_output=True, text=True,
                           timeout=120)
    if probe.returncode == 0 and "fake" not in probe.stdout:
        config.available_features.add("cuda-gpu")
        lit_config.note("CUDA GPU: " + probe.stdout.strip().splitlines()[0])
except Exception:
    pass

if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
    if not any(v in config.environment for v in ("CUDA_ROOT", "CUDA_HOME", "CUDA_PATH")):
        config.environment["CUDA_HOME"] = "/usr/local/cuda"
