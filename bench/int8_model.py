#!/usr/bin/env python3
"""Whole-model int8: torchvision ResNet-18 (224x224, batch 1, seeded weights
and batch-norm statistics) with fake-quant where a PTQ toolkit puts it: every
conv input and weight (per channel, symmetric scale, int8) and every conv + BN
(+ ReLU) output (uint8 after a ReLU, int8 otherwise), scales from a min/max
calibration on seeded inputs. Exported to ONNX (QuantizeLinear /
DequantizeLinear), imported, then

  fake-quant:  qfuse-opt --qfuse-ptq             (folds; float convs)
  int8:        qfuse-opt --qfuse-ptq=int8=true   (qfuse.qconv everywhere)

both run through qfuse-run on the same input, against each other (in output
quantization steps) and against PyTorch (the float model and the fake-quant
model, eval). Prints one JSON object per thread count.

Run with Debian's python (torch 1.13):
  /usr/bin/python3 bench/int8_model.py [--build build] [--threads 1 2] [--repeat 10]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  (bench/models.py: the seeded model, PyTorch timing)


class FakeQuant(nn.Module):
    """Per-tensor fake-quant with a min/max observer while calibrating."""

    def __init__(self, unsigned):
        super().__init__()
        self.unsigned = unsigned
        self.calibrating = True
        self.lo, self.hi = float("inf"), float("-inf")
        self.scale, self.zp = 1.0, 0

    def freeze(self):
        self.calibrating = False
        if self.unsigned:  # after a ReLU: [0, hi] on 0..255
            self.scale, self.zp = max(self.hi, 1e-8) / 255, 0
        else:  # symmetric int8
            self.scale, self.zp = max(abs(self.lo), abs(self.hi), 1e-8) / 127, 0
        self.scale = float(np.float32(self.scale))

    def forward(self, x):
        if self.calibrating:
            self.lo, self.hi = min(self.lo, x.min().item()), max(self.hi, x.max().item())
            return x
        qmin, qmax = (0, 255) if self.unsigned else (-128, 127)
        return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zp, qmin, qmax)


class QConv(nn.Module):
    """conv with its input and per-channel weight fake-quantized."""

    def __init__(self, conv, unsigned_input):
        super().__init__()
        self.conv = conv
        self.fq = FakeQuant(unsigned_input)
        scale = (conv.weight.detach().abs().amax((1, 2, 3)) / 127).clamp(min=1e-8)
        self.register_buffer("wscale", scale.float())
        self.register_buffer("wzp", torch.zeros(conv.out_channels, dtype=torch.int32))

    def forward(self, x):
        w = torch.fake_quantize_per_channel_affine(self.conv.weight, self.wscale, self.wzp,
                                                   0, -128, 127)
        c = self.conv
        return nn.functional.conv2d(self.fq(x), w, c.bias, c.stride, c.padding, c.dilation,
                                    c.groups)


def build(size=224):
    # The same seeded ResNet-18 as bench/models.py times in f32.
    m = models.build_model("resnet18")
    # Stem and the first conv of each block: conv -> BN -> ReLU, uint8 out.
    # The second conv and the downsample: conv -> BN, int8 out (before the
    # residual add). Every conv input: uint8 (it follows a ReLU).
    m.conv1 = QConv(m.conv1, unsigned_input=False)
    m.bn1 = nn.Sequential(m.bn1, nn.ReLU(), FakeQuant(True))
    for layer in (m.layer1, m.layer2, m.layer3, m.layer4):
        for blk in layer:
            blk.conv1 = QConv(blk.conv1, True)
            blk.bn1 = nn.Sequential(blk.bn1, nn.ReLU(), FakeQuant(True))
            blk.conv2 = QConv(blk.conv2, True)
            blk.bn2 = nn.Sequential(blk.bn2, FakeQuant(False))
            if blk.downsample is not None:
                blk.downsample = nn.Sequential(QConv(blk.downsample[0], True),
                                               blk.downsample[1], FakeQuant(False))
    with torch.no_grad():
        for i in range(4):
            m(torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(100 + i)))
    for mod in m.modules():
        if isinstance(mod, FakeQuant):
            mod.freeze()
    return m


def run(bin_dir, tool, args):
    proc = subprocess.run([os.path.join(bin_dir, tool)] + args,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{tool} failed:\n{proc.stderr[-2000:]}")
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    bin_dir = os.path.join(args.build, "bin")
    model = build()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref_fq = model(x).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "resnet18_qdq.onnx")
        torch.onnx.export(model, x, onnx_path, opset_version=13,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
        imported = os.path.join(tmp, "imported.mlir")
        run(bin_dir, "qfuse-translate", ["--import-onnx", onnx_path, "-o", imported])
        forms = {}
        for form, pipeline in (("fake-quant", "qfuse-ptq"), ("int8", "qfuse-ptq{int8=true}")):
            out = os.path.join(tmp, f"{form}.mlir")
            proc = run(bin_dir, "qfuse-opt", [f"--pass-pipeline=builtin.module({pipeline})",
                                              imported, "-o", out,
                                              "--remarks-filter=quantize",
                                              "--remark-format=emitRemark"])
            forms[form] = out
            if form == "int8":
                text = open(out).read()
                converted = proc.stderr.count("[Passed] Quantize")
                refused = re.findall(r'\[Missed\] Quantize .*?Remark="(.*?)"', proc.stderr)
        x_path = os.path.join(tmp, "x.npy")
        np.save(x_path, x.numpy())
        for threads in args.threads:
            res = {}
            for form, path in forms.items():
                y = os.path.join(tmp, f"{form}.npy")
                proc = run(bin_dir, "qfuse-run", [path, "--input", x_path, "--output", y,
                                                  "--repeat", str(args.repeat),
                                                  "--num-threads", str(threads if threads > 1 else 0)])
                m = re.search(r"median (\S+) ms", proc.stdout)
                res[form] = (float(m[1]), np.load(y))
            torch_med, _, _ = models.torch_ms(model, x, threads, args.repeat)
            fq_out, int8_out = res["fake-quant"][1], res["int8"][1]
            scale = np.abs(fq_out).max()
            print(json.dumps({
                "model": "resnet18-qdq", "input": "1x3x224x224", "threads": threads,
                "qconv_ops": text.count("qfuse.qconv"), "float_convs_left": text.count("qfuse.conv "),
                "quantize_converted": converted, "quantize_refused": refused[:3],
                "int8_ms_median": res["int8"][0], "fake_quant_ms_median": res["fake-quant"][0],
                "pytorch_fake_quant_ms_median": round(torch_med, 3),
                "int8_vs_fake_quant_max_rel": float(f"{np.abs(int8_out - fq_out).max() / scale:.3e}"),
                "int8_vs_fake_quant_argmax_equal": int(int8_out.argmax() == fq_out.argmax()),
                "fake_quant_vs_pytorch_max_rel": float(f"{np.abs(fq_out - ref_fq).max() / np.abs(ref_fq).max():.3e}"),
            }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
