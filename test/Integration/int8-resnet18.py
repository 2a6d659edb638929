# ResNet-18 with PTQ fake-quant (bench/int8_model.py's placement and
# calibration, 64x64 input to keep it quick) through ONNX Q/DQ: qfuse-ptq
# folds what it can exactly, qfuse-ptq{int8=true} makes every conv a
# qfuse.qconv (the batch-norms fold-bn leaves go into the integer scales);
# the all-integer model runs and computes the fake-quant graph's function:
# logits with cosine similarity above 0.999 and within 5% of the largest
# (each layer is within one step of it, int8-vs-pytorch.py; the steps
# compound through 20 layers, and a randomly initialized network's top
# classes are too close to compare).
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[1-9][0-9]*}} passed, 0 failed

import importlib.util
import os
import tempfile

import numpy as np
import torch

from qfuse_testing import Checker, run

spec = importlib.util.spec_from_file_location(
    "int8_model", os.path.join(os.path.dirname(__file__), "..", "..", "bench", "int8_model.py"))
int8_model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(int8_model)

chk = Checker()
model = int8_model.build(size=64)
with tempfile.TemporaryDirectory() as tmp:
    onnx_path = os.path.join(tmp, "r18.onnx")
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    torch.onnx.export(model, x, onnx_path, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    imported = run("qfuse-translate", ["--import-onnx", onnx_path]).stdout
    outs = {}
    for form, pipeline in (("fake-quant", "qfuse-ptq"), ("int8", "qfuse-ptq{int8=true}")):
        proc = run("qfuse-opt", [f"--pass-pipeline=builtin.module({pipeline})",
                                 "--remarks-filter=quantize", "--remark-format=emitRemark"],
                   stdin=imported)
        path = os.path.join(tmp, f"{form}.mlir")
        with open(path, "w") as f:
            f.write(proc.stdout)
        if form == "int8":
            chk.check("all 20 convs are qfuse.qconv, none left in float",
                      proc.stdout.count("qfuse.qconv") == 20 and "qfuse.conv " not in proc.stdout,
                      f"({proc.stdout.count('qfuse.qconv')} qconv)")
            chk.check("--quantize's remarks: 20 conversions",
                      proc.stderr.count("[Passed] Quantize") == 20)
        xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, f"{form}.npy")
        np.save(xp, x.numpy())
        run("qfuse-run", [path, "--input", xp, "--output", yp])
        outs[form] = np.load(yp)
fq, q = outs["fake-quant"], outs["int8"]
rel = float(np.abs(q - fq).max() / np.abs(fq).max())
cos = float((q * fq).sum() / np.sqrt((q * q).sum() * (fq * fq).sum()))
chk.check("int8 vs fake-quant: logits' cosine similarity above 0.999", cos > 0.999, f"({cos:.6f})")
chk.check("int8 vs fake-quant: logits within 5% of the largest", rel <= 0.05, f"({rel:.2e})")
with torch.no_grad():
    ref = model(x).numpy()
rel_pt = float(np.abs(fq - ref).max() / np.abs(ref).max())
chk.check("fake-quant graph vs PyTorch's fake-quant model: within 1e-3", rel_pt <= 1e-3,
          f"({rel_pt:.2e}; PyTorch's fake-quant multiplies by 1/scale, qfuse divides)")
raise SystemExit(chk.close())
