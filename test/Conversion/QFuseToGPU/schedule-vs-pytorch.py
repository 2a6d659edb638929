# The GPU's tiled conv schedule (convert-qfuse-to-gpu-tiles) run as loops on
# the CPU (qfuse-lower-to-llvm gpu-schedule=true, or the pass with explicit
# tiles before qfuse-run), so the tiling logic is tested without a GPU: tails
# in every tile dimension (channels, pixels, taps), padding, stride,
# dilation, groups, 1-D/3-D, relu/relu6, no bias, non-default block and
# thread tiles, reductions split over slices when the tiles are few, and the
# direct schedule for depthwise convs. Each case against PyTorch in float64 (relative error <= 1e-5),
# against itself with the block loop on 2 OpenMP threads (bit-equal), and
# for its remark (the tiles taken, or why the conv was left alone).
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import numpy as np
import torch

from qfuse_testing import Checker, conv_problem, pass_remarks, run_model

torch.manual_seed(5)
chk = Checker()


def case(name, expect, nd, n, cin, cout, k, size, stride, pads, dil, groups,
         bias=True, act=None, const_w=False, tiles=""):
    mlir, ins, ref = conv_problem(nd, n, cin, cout, k, size, stride, pads, dil,
                                  groups, bias, act, const_w)
    scheduled, remark = pass_remarks(
        mlir, "--convert-qfuse-to-gpu-tiles=memory-space=default " + tiles, "gpu")
    chk.check(f"{name}: remark", expect in remark,
              f"(expected '{expect}' in: {remark})")
    if tiles:
        # The pass with explicit tiles, then the CPU pipeline.
        got, = run_model(scheduled, ins)
        par, = run_model(scheduled, ins, ["--num-threads=2"])
    else:
        got, = run_model(mlir, ins, ["--lowering=gpu-schedule=true"])
        par, = run_model(mlir, ins, ["--lowering=gpu-schedule=true",
                                     "--num-threads=2"])
    ref = ref.detach().numpy()
    scale = max(np.abs(ref).max(), 1e-30)
    err = np.abs(got.astype(np.float64) - ref).max() / scale
    chk.check(f"{name}: vs PyTorch", err <= 1e-5, f"(rel err {err:.2e})")
    chk.check(f"{name}: 2 threads bit-equal", np.array_equal(par, got))


TILED = "tiled schedule"
LEFT = "left to the generic lowering"

# 32 channels (one 32-channel tile), 198 pixels (128 + 70), 144 taps.
case("3x3 16->32 relu, const weights", TILED + ": grid 1x1x2 blocks of 8x32",
     2, 2, 16, 32, 3, [11, 9], 1, [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
# 24 of 32 channels, 45 taps (16+16+13), stride 2, asymmetric padding.
case("3x3/2 asym pad 5->24 relu6", TILED, 2, 2, 5, 24, 3, [13, 10], 2,
     [0, 1, 2, 1], 1, 1, act="relu6")
case("3x3 dilation 2, 8 of 16 channels, no bias", "tile 16 channels", 2, 1, 4,
     8, 3, 12, 1, [2, 2, 2, 2], 2, 1, bias=False)
case("7x7/2 3->16 (resnet conv1 shape)", TILED, 2, 1, 3, 16, 7, 23, 2,
     [3, 3, 3, 3], 1, 1, act="relu", const_w=True)
case("groups 4, 16 channels per group", TILED + ": grid 4x1x1", 2, 1, 8, 64,
     3, 7, 1, [1, 1, 1, 1], 1, 4, act="relu")
case("7x7x64 -> 64 (49 of 64 pixels)", "tile 64 channels x 64 pixels", 2, 1,
     64, 64, 3, 7, 1, [1, 1, 1, 1], 1, 1, act="relu")
case("1x1 24->36", TILED, 2, 3, 24, 36, 1, [7, 9], 1, [0, 0, 0, 0], 1, 1)
case("1-D k5/3", TILED, 1, 2, 3, 16, 5, 31, 3, [2, 1], 1, 1)
case("3-D groups 2", TILED + ": grid 2x", 3, 1, 4, 16, 3, 5, 1,
     [1, 1, 1, 1, 1, 1], 1, 2, act="relu")
case("tiles 16x32x8, 2x2 per thread", "blocks of 8x16 threads, tile 16 "
     "channels x 32 pixels x 8 taps, 2x2 per thread", 2, 1, 6, 20, 3, 6, 1,
     [1, 1, 1, 1], 1, 1, act="relu",
     tiles="tile-channels=16 tile-pixels=32 tile-reduction=8 "
           "thread-channels=2 thread-pixels=2")
case("tiles 8x8x3, 1x8 per thread", "blocks of 8x1 threads", 2, 2, 5, 12, 3,
     [5, 6], 1, [1, 0, 1, 2], 1, 1,
     tiles="tile-channels=8 tile-pixels=8 tile-reduction=3 "
           "thread-channels=1 thread-pixels=8")
# 24 threads staging 40 weights and 60 inputs: the last share is guarded.
case("tiles 8x12x5, 1x4 per thread", "blocks of 8x3 threads", 2, 1, 7, 10, 3,
     [6, 5], 2, [1, 1, 1, 1], 1, 1, act="relu",
     tiles="tile-channels=8 tile-pixels=12 tile-reduction=5 "
           "thread-channels=1 thread-pixels=4")
# Few tiles: the reduction over taps is split into slices whose partial
# tiles a flat loop adds to the bias in slice order.
case("7x7x512 (resnet l4 shape): 8 tiles, split in 32",
     TILED + ": grid 32x8x1 blocks of 16x16 threads, tile 64 channels x 64 "
     "pixels x 16 taps, 4x4 per thread, 24576 bytes staged; reduction split "
     "in 32 slices of 144 taps, summed with the bias by a flat loop", 2, 1, 512, 512, 3, 7, 1, [1, 1, 1, 1], 1, 1,
     act="relu", const_w=True)
# 2 groups of 20 of 32 channels, 25 pixels, 360 taps (23 steps, the last
# half full): 2 slices of 12 and 11 steps, no bias, relu6.
case("split groups 2, tails everywhere, no bias",
     TILED + ": grid 4x1x1 blocks of 8x32 threads, tile 32 channels x 128 "
     "pixels x 16 taps, 4x4 per thread, 26624 bytes staged; reduction split "
     "in 2 slices of 192 taps, summed by a flat loop", 2, 1, 80, 40, 3, 5, 1, [1, 1, 1, 1], 1, 2,
     bias=False, act="relu6")
# Never split (target-blocks=0): large tiles, 64 channels x 128 pixels of
# which 49 are real, 8x8 per thread.
case("target-blocks=0: the same l4 shape unsplit, large tiles",
     TILED + ": grid 1x8x1 blocks of 8x16 threads, tile 64 channels x 128 "
     "pixels x 16 taps, 8x8 per thread, 45056 bytes staged\"", 2, 1, 64, 512, 3,
     7, 1, [1, 1, 1, 1], 1, 1, act="relu", tiles="target-blocks=0")
# Large tiles where they give enough blocks (here 2 suffice): 40 of 64
# channels, 800 pixels (6 x 128 + 32), 144 taps.
case("large tiles: 40 of 64 channels, 800 pixels",
     TILED + ": grid 1x1x7 blocks of 8x16 threads, tile 64 channels x 128 "
     "pixels x 16 taps, 8x8 per thread", 2, 2, 16, 40, 3, 20, 1, [1, 1, 1, 1],
     1, 1, act="relu6", tiles="target-blocks=2")
# One output channel per group: the direct depthwise schedule, one output
# pixel per thread (tails in the 256-pixel blocks), the window unrolled up to
# 64 taps, else a loop.
DW = "depthwise schedule"
case("depthwise 3x3 relu", DW + ": grid 8x1 blocks of 256 threads, one "
     "output pixel per thread, 9 taps unrolled", 2, 1, 8, 8, 3, 9, 1,
     [1, 1, 1, 1], 1, 8, act="relu")
case("depthwise 3x3/2 asym pad relu6, 2 images, const weights",
     DW + ": grid 12x1", 2, 2, 12, 12, 3, [15, 12], 2, [0, 1, 1, 2], 1, 12,
     act="relu6", const_w=True)
case("one output channel per group of 2 inputs, dilation 2, no bias",
     DW + ": grid 4x2 blocks of 256 threads, one output pixel per thread, 18 "
     "taps unrolled", 2, 1, 8, 4, 3, 20, 1, [2, 2, 2, 2], 2, 4, bias=False)
case("depthwise 9x9 window: 81 taps in a loop", DW + ": grid 6x1 blocks of "
     "256 threads, one output pixel per thread, 81 taps in a loop", 2, 1, 6,
     6, 9, 11, 1, [4, 4, 4, 4], 1, 6, act="relu")
case("depthwise 1-D", DW, 1, 2, 5, 5, 3, 40, 1, [1, 1], 1, 5)
# Not taken: the generic lowering runs them, still correct.

case("thread tile not dividing the block", LEFT + ": tiles 16x30", 2, 1, 4, 16,
     3, 5, 1, [1, 1, 1, 1], 1, 1, tiles="tile-pixels=30")
case("too many threads", LEFT + ": 2048 threads", 2, 1, 4, 16, 3, 5, 1,
     [1, 1, 1, 1], 1, 1, tiles="tile-channels=64 tile-pixels=512")

# qfuse.linear as a 1x1 conv: MobileNetV2's classifier shape (a split
# reduction) and a small one with relu and no bias, against F.linear.
LINEAR = """
func.func @fc(%x: tensor<NxKxf32>, %w: tensor<MxKxf32>BIAST) -> tensor<NxMxf32> {
  %0 = qfuse.linear %x, %wBIASV {activation = #qfuse.activation<ACT>} : (tensor<NxKxf32>, tensor<MxKxf32>BIASTT) -> tensor<NxMxf32>
  return %0 : tensor<NxMxf32>
}
"""
for n, k, m, bias, act, expect in [
        (2, 1280, 1000, True, "none", "grid 10x16x1"),
        (3, 40, 20, False, "relu", "grid 1x1x1")]:
    mlir = (LINEAR.replace("N", str(n)).replace("K", str(k))
            .replace("M", str(m)).replace("ACT", act)
            .replace("BIASTT", ", tensor<%dxf32>" % m if bias else "")
            .replace("BIAST", ", %%b: tensor<%dxf32>" % m if bias else "")
            .replace("BIASV", ", %b" if bias else ""))
    x = torch.randn(n, k)
    w = torch.randn(m, k) * (1.0 / k ** 0.5)
    b = torch.randn(m)
    ins = [x.numpy(), w.numpy()] + ([b.numpy()] if bias else [])
    ref = torch.nn.functional.linear(x.double(), w.double(),
                                     b.double() if bias else None)
    if act == "relu":
        ref = torch.relu(ref)
    name = f"linear {n}x{k} -> {m}"
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-gpu-tiles", "gpu")
    chk.check(f"{name}: taken as a 1x1 conv", TILED + ": " + expect in remark,
              f"({remark})")
    got, = run_model(mlir, ins, ["--lowering=gpu-schedule=true"])
    err = np.abs(got - ref.numpy()).max() / np.abs(ref.numpy()).max()
    chk.check(f"{name}: vs PyTorch", err <= 1e-5, f"(rel err {err:.2e})")

# A train-mode QAT op: its convolution takes the schedule too (qfuse-expand-
# qat runs first); outputs and running statistics against the CPU's vector
# kernels.
QAT = """
func.func @qat(%x: tensor<4x8x6x6xf32>, %w: tensor<16x8x3x3xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>) {
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) weight_quant(%s, %zp) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<train>, weight_axis = 0 : i64, weight_quant_min = -127 : i64, weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<4x8x6x6xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y, %m1, %v1 : tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>
}
"""
qat_ins = [torch.randn(4, 8, 6, 6).numpy(), (torch.randn(16, 8, 3, 3) * 0.3).numpy(),
           (torch.randn(16) * 0.1).numpy(), (torch.rand(16) + 0.5).numpy(),
           (torch.rand(16) * 0.01 + 0.005).numpy(), np.zeros(16, np.int32)]
sched = run_model(QAT, qat_ins, ["--lowering=gpu-schedule=true"])
base = run_model(QAT, qat_ins)
for i, what in enumerate(["output", "running mean", "running variance"]):
    err = np.abs(sched[i].astype(np.float64) - base[i]).max() / \
        max(np.abs(base[i]).max(), 1e-30)
    chk.check(f"QAT train {what}: schedule vs CPU kernels", err <= 1e-5,
              f"(rel err {err:.2e})")

raise SystemExit(chk.close())
