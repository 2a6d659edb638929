# PyTorch models end to end: each model (random weights, BN statistics
# randomized with a negative gamma on one channel of every BN) is exported to
# ONNX with BatchNormalization kept (TrainingMode.PRESERVE in eval mode, no
# constant folding, opset 13), then
#   1. imported and JIT-run by qfuse-run, compared with PyTorch eval output;
#   2. imported, --qfuse-ptq'd: no batch-norm may be left unless a remark
#      gives the reason, then run and compared with PyTorch again.
# Tolerance: max |qfuse - torch| <= 1e-4 * max |torch| (deep f32 nets; the
# order of accumulation differs from oneDNN's). Prints per model the BNs
# folded / refused with reasons and the errors.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision

from qfuse_testing import Checker, QFUSE_BIN, run

torch.manual_seed(0)
chk = Checker()
TOL = 1e-4


def randomize_bn(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c) * 0.1)
                m.running_var.copy_(torch.rand(c) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(c) + 0.5)
                    m.weight[0] = -m.weight[0]
                    m.bias.copy_(torch.randn(c) * 0.1)


class UNetDecoder(nn.Module):
    """Upsampling path: grouped ConvTranspose + BN + ReLU, then conv + BN."""

    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2, groups=2, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.up2 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=4)
        self.bn2 = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(8, 3, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(3)

    def forward(self, x):
        x = torch.relu(self.bn1(self.up1(x)))
        x = torch.relu(self.bn2(self.up2(x)))
        return self.bn3(self.head(x))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn1 = nn.Linear(32, 64), nn.BatchNorm1d(64)
        self.fc2, self.bn2 = nn.Linear(64, 16, bias=False), nn.BatchNorm1d(16, affine=False)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.fc1(x)))
        x = self.bn2(self.fc2(x))
        return self.fc3(x)


class QDQBlock(nn.Module):
    """Per-channel weight fake-quant (exported as QuantizeLinear /
    DequantizeLinear), conv, BN, ReLU, activation fake-quant."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        # Calibrated per-channel weight scale (a constant in the export).
        self.register_buffer(
            "wscale", (self.conv.weight.detach().abs().amax((1, 2, 3)) / 127).float())
        self.register_buffer("wzp", torch.zeros(16, dtype=torch.int32))

    def forward(self, x):
        wq = torch.fake_quantize_per_channel_affine(
            self.conv.weight, self.wscale, self.wzp, 0, -128, 127)
        y = torch.relu(self.bn(nn.functional.conv2d(x, wq, None, 1, 1)))
        return torch.fake_quantize_per_tensor_affine(y, 0.05, 0, 0, 255)


def summarize(stderr):
    folded = len(re.findall(r"\[Passed\] FoldBatchNorm", stderr))
    reasons = re.findall(r'\[Missed\] FoldBatchNorm .*?Remark="batch-norm not folded: (.*?)"', stderr)
    return folded, reasons


def check_model(name, model, x, positive_gamma=False):
    model.eval()
    randomize_bn(model)
    if positive_gamma:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d) and m.affine:
                    m.weight.abs_()
    with torch.no_grad():
        ref = model(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, f"{name}.onnx")
        torch.onnx.export(model, x, onnx_path,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False, opset_version=13)
        xin, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(xin, x.numpy())
        bound = max(np.abs(ref).max(), 1e-30)

        run("qfuse-run", [onnx_path, "--input", xin, "--output", out])
        e1 = np.abs(np.load(out) - ref).max() / bound
        chk.check(f"{name}: imported model == PyTorch", e1 <= TOL,
                  f"(rel err {e1:.2e}, tol {TOL:.0e})")

        mlir = run("qfuse-translate", ["--import-onnx", onnx_path]).stdout
        n_bn = mlir.count("qfuse.batch_norm")
        big = any(p.numel() > 1024 for p in model.parameters())
        if big:  # large initializers are imported as dense resources
            chk.check(f"{name}: large weights imported as dense resources",
                      "dense_resource<" in mlir)
        proc = run("qfuse-opt", ["--qfuse-ptq", "--remarks-filter=fold-bn",
                                 "--remark-format=emitRemark"], stdin=mlir)
        folded, reasons = summarize(proc.stderr)
        runtime = proc.stderr.count("with run-time arithmetic")
        chk.check(f"{name}: every fold computed from the constants (f64)",
                  runtime == 0, f"({runtime} folds fell back to run-time arithmetic)")
        left = proc.stdout.count("qfuse.batch_norm")
        chk.check(f"{name}: every batch-norm folded or refused with a reason",
                  left == len(reasons) and folded + left == n_bn,
                  f"({n_bn} BNs, {folded} folded, {left} left)")
        ptq = os.path.join(tmp, "ptq.mlir")
        with open(ptq, "w") as f:
            f.write(proc.stdout)
        run("qfuse-run", [ptq, "--input", xin, "--output", out])
        e2 = np.abs(np.load(out) - ref).max() / bound
        chk.check(f"{name}: after --qfuse-ptq == PyTorch", e2 <= TOL,
                  f"(rel err {e2:.2e}, tol {TOL:.0e})")
        print(f"# {name}: {n_bn} batch-norms, {folded} folded, {left} refused"
              + "".join(f"\n#   refused: {r}" for r in reasons)
              + f"\n#   max rel err vs PyTorch: imported {e1:.2e}, after qfuse-ptq {e2:.2e}")


check_model("resnet18", torchvision.models.resnet18(num_classes=10), torch.randn(1, 3, 64, 64))
check_model("mobilenet_v2", torchvision.models.mobilenet_v2(num_classes=10), torch.randn(1, 3, 64, 64))
check_model("unet_decoder", UNetDecoder(), torch.randn(1, 16, 8, 8))
check_model("mlp_bn1d", MLP(), torch.randn(8, 32))
check_model("qdq_conv_bn_relu", QDQBlock(), torch.randn(1, 8, 12, 12), positive_gamma=True)

sys.exit(chk.close())
