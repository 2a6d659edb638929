# On a CUDA GPU (lit feature cuda-gpu: qfuse-run --list-devices finds one):
# qfuse-run --device=cuda, i.e. --qfuse-lower-to-nvvm with the tiled conv
# kernels and qfuse's CUDA runtime, against PyTorch in float64 and against
# the same model on the CPU (and bit for bit against the same tiled
# schedule run as CPU loops): convs with tails in every tile dimension,
# stride, dilation, groups, 1-D/3-D, depthwise (direct schedule), non-default
# tiles, split reductions, large tiles, the ResNet-18 layer shapes (fused
# relu), a classifier (linear as a 1x1 conv), per-channel fake_quant
# (bit-equal to the CPU), and the bundled ResNet block after --qfuse-ptq.
# REQUIRES: cuda-gpu, torch
# RUN: %python %s %qfuse_src | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import os
import sys

import numpy as np
import torch

from qfuse_testing import Checker, conv_problem, run, run_model

torch.manual_seed(9)
chk = Checker()
CUDA = ["--device=cuda"]


def rel_err(got, ref):
    ref = np.asarray(ref, dtype=np.float64)
    return np.abs(got.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30)


def conv_case(name, *args, lowering="", **kw):
    mlir, ins, ref = conv_problem(*args, **kw)
    extra = CUDA + ([f"--lowering={lowering}"] if lowering else [])
    gpu, = run_model(mlir, ins, extra)
    cpu, = run_model(mlir, ins)
    chk.check(f"{name}: GPU vs PyTorch", rel_err(gpu, ref.numpy()) <= 1e-5,
              f"(rel err {rel_err(gpu, ref.numpy()):.2e})")
    chk.check(f"{name}: GPU vs CPU", rel_err(gpu, cpu) <= 1e-5,
              f"(rel err {rel_err(gpu, cpu):.2e})")
    if not lowering:
        # The same schedule as CPU loops: the same fmas in the same order.
        sched, = run_model(mlir, ins, ["--lowering=gpu-schedule=true"])
        chk.check(f"{name}: GPU bit-equal to its schedule on the CPU",
                  np.array_equal(gpu, sched))


conv_case("3x3 16->32 relu, 198 pixels", 2, 2, 16, 32, 3, [11, 9], 1,
          [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
conv_case("3x3/2 asym pad 5->24 relu6", 2, 2, 5, 24, 3, [13, 10], 2,
          [0, 1, 2, 1], 1, 1, act="relu6")
conv_case("dilation 2, no bias", 2, 1, 4, 8, 3, 12, 1, [2, 2, 2, 2], 2, 1,
          bias=False)
conv_case("groups 4", 2, 1, 8, 64, 3, 7, 1, [1, 1, 1, 1], 1, 4, act="relu")
conv_case("1-D k5/3", 1, 2, 3, 16, 5, 31, 3, [2, 1], 1, 1)
conv_case("3-D groups 2", 3, 1, 4, 16, 3, 5, 1, [1, 1, 1, 1, 1, 1], 1, 2,
          act="relu")
conv_case("depthwise (direct schedule)", 2, 1, 8, 8, 3, 9, 1, [1, 1, 1, 1], 1, 8,
          act="relu")
conv_case("untiled (tiled-conv=false)", 2, 1, 6, 20, 3, 6, 1, [1, 1, 1, 1],
          1, 1, act="relu", lowering="tiled-conv=false")
conv_case("tiles 32 channels x 64 pixels", 2, 1, 6, 40, 3, 9, 1,
          [1, 1, 1, 1], 1, 1, lowering="tile-channels=32 tile-pixels=64")
# Depthwise at MobileNetV2's shapes: the direct schedule, one thread per output
# element, bit-equal to its CPU run.
conv_case("depthwise 3x3/2 96 channels 56x56", 2, 1, 96, 96, 3, 56, 2,
          [1, 1, 1, 1], 1, 96, act="relu6", const_w=True)
# A split reduction with tails in channels (40 of 64) and taps (360 of 368),
# and large tiles (64 x 128, 8x8 per thread) with 2 images.
conv_case("split reduction, tails", 2, 1, 40, 40, 3, 5, 1, [1, 1, 1, 1], 1, 1,
          act="relu")
conv_case("large tiles, 40 of 64 channels", 2, 2, 16, 40, 3, 96, 1,
          [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
for name, cin, cout, k, size, stride in [("conv1", 3, 64, 7, 224, 2),
                                         ("l1", 64, 64, 3, 56, 1),
                                         ("l4", 512, 512, 3, 7, 1)]:
    for n in (1, 4):
        conv_case(f"resnet18 {name} b{n}", 2, n, cin, cout, k, size, stride,
                  [k // 2] * 4, 1, 1, act="relu", const_w=True)

# MobileNetV2's classifier, qfuse.linear taken as a 1x1 conv with a split
# reduction.
FC = """
func.func @fc(%x: tensor<1x1280xf32>, %w: tensor<1000x1280xf32>, %b: tensor<1000xf32>) -> tensor<1x1000xf32> {
  %0 = qfuse.linear %x, %w, %b : (tensor<1x1280xf32>, tensor<1000x1280xf32>, tensor<1000xf32>) -> tensor<1x1000xf32>
  return %0 : tensor<1x1000xf32>
}
"""
xf, wf, bf = torch.randn(1, 1280), torch.randn(1000, 1280) * 0.03, torch.randn(1000)
ref = torch.nn.functional.linear(xf.double(), wf.double(), bf.double()).numpy()
fc_ins = [xf.numpy(), wf.numpy(), bf.numpy()]
gpu, = run_model(FC, fc_ins, CUDA)
sched, = run_model(FC, fc_ins, ["--lowering=gpu-schedule=true"])
chk.check("linear 1280->1000: GPU vs PyTorch", rel_err(gpu, ref) <= 1e-5,
          f"(rel err {rel_err(gpu, ref):.2e})")
chk.check("linear 1280->1000: GPU bit-equal to its schedule on the CPU",
          np.array_equal(gpu, sched))

# Per-channel fake_quant: the same float operations on both sides.
FQ = """
func.func @fq(%x: tensor<2x16x8x8xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> tensor<2x16x8x8xf32> {
  %0 = qfuse.fake_quant %x, %s, %zp {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xi32>) -> tensor<2x16x8x8xf32>
  return %0 : tensor<2x16x8x8xf32>
}
"""
x = (torch.randn(2, 16, 8, 8) * 3).numpy()
s = (torch.rand(16) * 0.05 + 0.01).numpy()
zp = torch.randint(-5, 5, (16,), dtype=torch.int32).numpy()
ref = torch.fake_quantize_per_channel_affine(torch.from_numpy(x), torch.from_numpy(s),
                                             torch.from_numpy(zp), 1, -128, 127).numpy()
gpu, = run_model(FQ, [x, s, zp], CUDA)
cpu, = run_model(FQ, [x, s, zp])
chk.check("fake_quant: GPU bit-equal to CPU", np.array_equal(gpu, cpu))
chk.check("fake_quant: GPU vs PyTorch within one step",
          np.all(np.abs(gpu - ref) <= s.reshape(1, 16, 1, 1) * 1.0001))

block = run("qfuse-opt", ["--qfuse-ptq",
                          os.path.join(sys.argv[1], "examples", "resnet_block.mlir")]).stdout
xb = torch.randn(1, 4, 8, 8).numpy()
gpu, = run_model(block, [xb], CUDA)
cpu, = run_model(block, [xb])
chk.check("resnet block after qfuse-ptq: GPU vs CPU", rel_err(gpu, cpu) <= 1e-5,
          f"(rel err {rel_err(gpu, cpu):.2e})")

raise SystemExit(chk.close())
