# convert-qfuse-to-vector's kernels, JIT-run by qfuse-run, on every path the
# pass has (dense with 1/2/3 channel vectors, both loop orders, groups, 1-D
# and 3-D, pointwise, depthwise stride 1/2/3 with ragged rows and padding
# read in place, linear, constant and run-time weights, pixel remainders),
# against:
#   * PyTorch in float64: relative error <= 1e-5;
#   * the generic linalg lowering (--lowering=vectorize=false) on the same
#     inputs: <= 1e-6 (the kernels accumulate in the same order; the count of
#     bit-equal results is printed);
#   * themselves on 2 OpenMP threads: bit-equal.
# The remark of each op names the kernel it took, or why it was left to the
# generic lowering; both are checked.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np
import torch
import torch.nn.functional as F

from qfuse_testing import (Checker, act_attrs, apply_act, arr, constant,
                           conv_problem, pass_remarks, run_model)

torch.manual_seed(11)
chk = Checker()
D = torch.float64
bit_equal = 0


def tt(shape, elt="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def check_all(name, mlir, ins, ref, expect, lowering=""):
    global bit_equal
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector" +
                             ("=" + lowering if lowering else ""), "vectorize")
    chk.check(f"{name}: kernel", expect in remark,
              f"(expected '{expect}' in: {remark})")
    extra = [f"--lowering={lowering}"] if lowering else []
    got, = run_model(mlir, ins, extra)
    ref = ref.detach().double().numpy()
    scale = max(np.abs(ref).max(), 1e-30)
    err = np.abs(got.astype(np.float64) - ref).max() / scale
    chk.check(f"{name}: vs PyTorch", err <= 1e-5, f"(rel err {err:.2e})")
    gen, = run_model(mlir, ins, ["--lowering=vectorize=false"])
    gerr = np.abs(got.astype(np.float64) - gen).max() / scale
    bit_equal += int(np.array_equal(got, gen))
    chk.check(f"{name}: vs generic lowering", gerr <= 1e-6, f"(rel err {gerr:.2e})")
    par, = run_model(mlir, ins, extra + ["--num-threads=2"])
    chk.check(f"{name}: 2 threads bit-equal", np.array_equal(par, got))


def conv_case(name, expect, nd, n, cin, cout, k, size, stride, pads, dil,
              groups, bias=True, act=None, const_w=False, lowering=""):
    mlir, ins, ref = conv_problem(nd, n, cin, cout, k, size, stride, pads, dil,
                                  groups, bias, act, const_w)
    check_all(f"conv {name}", mlir, ins, ref, expect, lowering)


DENSE = "dense vector kernel"
PW = "pointwise vector kernel"
DW = "depthwise vector kernel"
LEFT = "left to the generic lowering"

# Dense: 16 channels x 6 pixels (11x9 = 99 pixels: 16 tiles + 3), both orders.
conv_case("3x3 16->32 relu, const weights, no row tiles",
          DENSE + ": 16 output channels x 6 pixels per register tile, "
          "channel-block loop outermost\"", 2, 2, 16, 32, 3, [11, 9], 1,
          [1, 1, 1, 1], 1, 1, act="relu", const_w=True,
          lowering="skip-padding=false")
# Row tiles (finite constant weights, either loop outermost): each output
# row in column tiles that leave out the taps on the padding. A 7-wide row
# is one 8-channel tile; a 9-wide one two 16-channel tiles (5, 4); a
# 14-wide one three (5, 5, 4); a 30-wide one the two edge tiles static and
# the 4 interior ones in a loop; stride 2 with asymmetric padding and dilation 2;
# padding beyond the kernel's reach (rows and columns with no input tap at
# all: the bias).
ROWS = "row tiles"
conv_case("3x3 16->32 relu, const weights: one row tile",
          DENSE + ": 8 output channels x 7 pixels per register tile, "
          "channel-block loop outermost, row tiles (1 per row)", 2, 2, 16, 32,
          3, [11, 7], 1, [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
conv_case("3x3 16->32 relu, const weights: two row tiles",
          DENSE + ": 16 output channels x 5 pixels per register tile, "
          "channel-block loop outermost, row tiles (2 per row)", 2, 2, 16, 32,
          3, [11, 9], 1, [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
conv_case("3x3 16->32, 14-wide rows: three row tiles",
          "16 output channels x 5 pixels per register tile, channel-block "
          "loop outermost, row tiles (3 per row)", 2, 1, 16, 32, 3, [6, 14], 1,
          [1, 1, 1, 1], 1, 1, const_w=True, lowering="loop-order=weights")
conv_case("3x3 16->32, 30-wide rows: interior row tiles in a loop",
          "row tiles (6 per row, 4 in a loop)", 2, 1, 16, 32, 3, [4, 30], 1,
          [1, 1, 1, 1], 1, 1, act="relu", const_w=True,
          lowering="loop-order=weights")
# ResNet-18's 56-wide rows with the pixel tiles outermost: 5-wide tiles
# (8 x 5 + 4 x 4, the first and the 4-wide ones static), the input read in
# place.
conv_case("3x3 16->32, 56-wide rows, pixel tiles outer: two tile widths",
          "pixel-tile loop outermost, row tiles (12 per row, 7 in a loop)", 2,
          1, 16, 32, 3, [6, 56], 1, [1, 1, 1, 1], 1, 1, act="relu",
          const_w=True)
# f32 at column stride 2 keeps flat tiles on the padded input, also with the
# channel blocks outermost (the strided row tiles' geometry is the integer
# kernels', tested in test/Integration/int8-vs-pytorch.py).
conv_case("5x5/2 dilation 2, 64-wide input, asym pad: flat tiles",
          "channel-block loop outermost\"", 2, 1, 8, 16, 5, [9, 64], 2,
          [3, 4, 1, 2], 2, 1, const_w=True, lowering="loop-order=weights")
conv_case("3x3/2 dilation 2 asym pad: flat tiles",
          "channel-block loop outermost\"", 2, 1, 8, 16, 3, [13, 15], 2,
          [0, 1, 2, 1], 2, 1, act="relu6", const_w=True,
          lowering="loop-order=weights")
conv_case("3x3 padding 3 (beyond the kernel's reach), row tiles", ROWS, 2, 1,
          8, 16, 3, [5, 6], 1, [3, 3, 3, 3], 1, 1, const_w=True,
          lowering="loop-order=weights")
conv_case("3x3 16->32, channel blocks outer", "channel-block loop", 2, 1, 16,
          32, 3, [11, 9], 1, [1, 1, 1, 1], 1, 1, lowering="loop-order=weights")
conv_case("3x3 16->32, pixel tiles outer", "pixel-tile loop", 2, 1, 16, 32, 3,
          [11, 9], 1, [1, 1, 1, 1], 1, 1, lowering="loop-order=input")
# Three images whose input is smaller than a channel block's weights: the
# images go inside the channel blocks (forall (block, image)).
conv_case("3x3 64->32 on three 4x5 images: images inside the blocks",
          "channel-block loop outermost", 2, 3, 64, 32, 3, [4, 5], 1,
          [1, 1, 1, 1], 1, 1, act="relu", const_w=True)
conv_case("3x3 64->32 on three 4x5 images, flat tiles, run-time weights",
          "channel-block loop outermost\"", 2, 3, 64, 32, 3, [4, 5], 1,
          [1, 1, 1, 1], 1, 1, act="relu")
conv_case("3x3/2 asym pad 5->24 relu6 (3 vectors)", DENSE + ": 24 output", 2, 2,
          5, 24, 3, [13, 10], 2, [0, 1, 2, 1], 1, 1, act="relu6")
conv_case("3x3 dilation 2, 8 channels (1 vector), no bias", DENSE + ": 8 output",
          2, 1, 4, 8, 3, 12, 1, [2, 2, 2, 2], 2, 1, bias=False)
conv_case("7x7/2 3->16 (resnet conv1 shape)", DENSE, 2, 1, 3, 16, 7, 23, 2,
          [3, 3, 3, 3], 1, 1, act="relu", const_w=True)
conv_case("groups 4, 16 channels per group", DENSE, 2, 1, 8, 64, 3, 7, 1,
          [1, 1, 1, 1], 1, 4, act="relu")
conv_case("1-D k5/3", DENSE, 1, 2, 3, 16, 5, 31, 3, [2, 1], 1, 1)
conv_case("3-D groups 2", DENSE, 3, 1, 4, 16, 3, 5, 1, [1, 1, 1, 1, 1, 1], 1, 2,
          act="relu")
conv_case("tile-pixels=4 tile-vectors=1 override", DENSE + ": 8 output channels x 4",
          2, 1, 6, 16, 3, 6, 1, [1, 1, 1, 1], 1, 1,
          lowering="tile-vectors=1 tile-pixels=4")
# A batch too large to prepare (pad) at once goes one image at a time.
conv_case("3x3 16->32 batch 3, one image at a time", DENSE + ": 16 output",
          2, 3, 16, 32, 3, [11, 9], 1, [1, 1, 1, 1], 1, 1, act="relu",
          lowering="batch-prepare-bytes=0")
conv_case("7x7/2 3->16 batch 2, one image at a time", "one image at a time", 2,
          2, 3, 16, 7, 23, 2, [3, 3, 3, 3], 1, 1,
          lowering="batch-prepare-bytes=0")
# With constant weights a stride-1 conv is row-tiled and reads its input
# in place: nothing to prepare, so never one image at a time (23 columns:
# 3 x 5 + 2 x 4). At column stride 2 with the pixels outermost (conv1) the
# flat tiles stay, padded one image at a time.
conv_case("3x3 3->16 batch 2, const weights: row tiles read in place",
          "pixel-tile loop outermost, row tiles (5 per row, 2 in a loop) that "
          "skip the padding taps\"", 2, 2, 3, 16, 3, 23, 1, [1, 1, 1, 1], 1,
          1, act="relu", const_w=True, lowering="batch-prepare-bytes=0")
conv_case("7x7/2 3->16 batch 2, const weights: flat tiles at stride 2",
          "16 output channels x 6 pixels per register tile, pixel-tile loop "
          "outermost, one image at a time", 2, 2, 3, 16, 7, 23, 2,
          [3, 3, 3, 3], 1, 1, act="relu", const_w=True,
          lowering="batch-prepare-bytes=0")
conv_case("1-D k5/3 batch 2, one image at a time", "one image at a time", 1, 2,
          3, 16, 5, 31, 3, [2, 1], 1, 1, lowering="batch-prepare-bytes=0")
# Pointwise: channels per tile 6/4/1, pixels in 8-vectors with a ragged tail.
conv_case("1x1 24->36 relu (6 channels)", PW + ": 6 output", 2, 3, 24, 36, 1,
          [7, 9], 1, [0, 0, 0, 0], 1, 1, act="relu", const_w=True)
conv_case("1x1 8->20 (4 channels)", PW + ": 4 output", 2, 1, 8, 20, 1, 10, 1,
          [0, 0, 0, 0], 1, 1)
conv_case("1x1 5->7 (1 channel)", PW + ": 1 output", 2, 1, 5, 7, 1, 5, 1,
          [0, 0, 0, 0], 1, 1, bias=False)
conv_case("1x1 groups 2, channel blocks outer", PW, 2, 1, 8, 24, 1, 6, 1,
          [0, 0, 0, 0], 1, 2, lowering="loop-order=weights")
conv_case("1-D 1x1", PW, 1, 2, 6, 12, 1, 19, 1, [0, 0], 1, 1, act="relu")
# Depthwise: rows of 37 = 32 + 5, stride 2 with slack, dilation, clamp.
conv_case("depthwise 3x3 relu", DW, 2, 2, 6, 6, 3, [9, 37], 1, [1, 1, 1, 1], 1,
          6, act="relu")
conv_case("depthwise 3x3/2", DW, 2, 1, 5, 5, 3, [13, 19], 2, [1, 1, 1, 1], 1, 5)
conv_case("depthwise 5x5/2 asym pad relu6, no bias", DW, 2, 1, 4, 4, 5, 17, 2,
          [2, 1, 1, 2], 1, 4, bias=False, act="relu6")
conv_case("depthwise 3x3 dilation 2 no pad", DW, 2, 1, 3, 3, 3, 12, 1,
          [0, 0, 0, 0], 2, 3)
# Depthwise planes are read in place: padding-only rows and columns, a
# plane narrower than one strided read, rows long enough for the chunk loop
# between the static edge chunks (stride 1 and 2), stride 3 with dilation.
conv_case("depthwise 3x3 padding beyond the kernel's reach", DW, 2, 1, 3, 3, 3,
          [6, 10], 1, [3, 2, 4, 3], 1, 3, act="relu")
conv_case("depthwise 3x3/2 plane 3 wide", DW, 2, 2, 4, 4, 3, [5, 3], 2,
          [1, 1, 1, 1], 1, 4)
conv_case("depthwise 3x3 rows of 100", DW, 2, 1, 2, 2, 3, [7, 100], 1,
          [1, 1, 1, 1], 1, 2)
conv_case("depthwise 3x3/2 rows of 150", DW, 2, 1, 2, 2, 3, [9, 150], 2,
          [1, 1, 1, 1], 1, 2, act="relu6")
conv_case("depthwise 5x5/3 dilation 2 pad 4", DW, 2, 1, 2, 2, 5, [17, 40], 3,
          [4, 4, 4, 4], 2, 2)
# Stride-2 3-tap rows as pair sums: 8-wide chunks whose windows read columns
# 16j - 1 - padLeft .. 16j + 16 - padLeft; the first chunk (and any that
# reach the right edge) static with zeros for the padding, the others in a
# loop, a ragged last chunk computed whole and stored narrowed.
PAIRS = DW + ": 8-wide output-row vectors, stride-2 3-tap rows as pair sums"
conv_case("depthwise 3x3/2 pair sums, MobileNetV2's 112x112 rows", PAIRS, 2, 1,
          4, 4, 3, [12, 112], 2, [1, 1, 1, 1], 1, 4, act="relu6")
conv_case("depthwise 3x3/2 pair sums, 17 outputs (ragged last chunk)", PAIRS,
          2, 2, 3, 3, 3, [9, 33], 2, [1, 1, 1, 1], 1, 3)
conv_case("depthwise 3x3/2 pair sums, TF SAME padding (bottom / right only)",
          PAIRS, 2, 1, 3, 3, 3, [10, 48], 2, [0, 0, 1, 1], 1, 3, act="relu")
conv_case("depthwise 3x3/2 pair sums, no padding, 7 outputs", PAIRS, 2, 1, 2, 2,
          3, [7, 15], 2, [0, 0, 0, 0], 1, 2, bias=False)
conv_case("depthwise 3x3/2 pair sums, left padding 2", PAIRS, 2, 1, 2, 2, 3,
          [8, 40], 2, [1, 2, 1, 0], 1, 2)
conv_case("depthwise 3x3/2 deinterleaved (depthwise-pair-sums=false)",
          DW + ": 8-wide output-row vectors\"", 2, 1, 3, 3, 3, [12, 112], 2,
          [1, 1, 1, 1], 1, 3, act="relu6", lowering="depthwise-pair-sums=false")


# Channel-blocked activations (nChw8c, [N, C/8, H, W, 8]): a depthwise conv
# between a linalg.unpack from the blocks and a linalg.pack back takes the
# blocked kernel, which reads and writes the blocks in place. The generic
# lowering's reference runs the relayouts as loops (pad / expand / transpose).
BLOCKED = DW + " on channel-blocked activations (nChw8c in and out)"


def to_blocks(a):
    n, c, h, w = a.shape
    return np.ascontiguousarray(
        a.reshape(n, c // 8, 8, h, w).transpose(0, 1, 3, 4, 2))


def blocked_mlir(mlir, x_shape, y_shape, block_input=True):
    """`mlir` (conv_problem's function) with its input and result in blocks:
    the first argument unpacked before the conv, the result packed after
    (with `block_input` False only the result)."""
    x4, y4 = tt(x_shape), tt(y_shape)
    x5 = tt(to_blocks(np.zeros(x_shape, np.float32)).shape) \
        if block_input else x4
    y5 = tt(to_blocks(np.zeros(y_shape, np.float32)).shape)
    head, body = mlir.split("{\n", 1)
    head = head.replace(f"-> {y4}", f"-> {y5}")
    body = body.replace(f"  return %0 : {y4}", (
        f"  %ey = tensor.empty() : {y5}\n"
        f"  %y5 = linalg.pack %0 inner_dims_pos = [1] inner_tiles = [8] into "
        f"%ey : {y4} -> {y5}\n  return %y5 : {y5}"))
    if not block_input:
        return head + "{\n" + body
    head = head.replace(f"%a0: {x4}", f"%x5: {x5}")
    return (head + "{\n" + f"  %ex = tensor.empty() : {x4}\n"
            f"  %a0 = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] "
            f"into %ex : {x5} -> {x4}\n" + body)


def on_blocks(name, expect, n, cin, cout, k, size, stride, pads, dil, groups,
              bias=True, act=None, const_w=False, block_input=True,
              lowering=""):
    """conv_problem's conv with its result (and with `block_input` its
    input) in 8-channel blocks, checked by check_all."""
    mlir, ins, ref = conv_problem(2, n, cin, cout, k, size, stride, pads, dil,
                                  groups, bias, act, const_w)
    mlir = blocked_mlir(mlir, ins[0].shape, tuple(ref.shape), block_input)
    if block_input:
        ins = [to_blocks(ins[0])] + ins[1:]
    check_all(name, mlir, ins, torch.from_numpy(to_blocks(ref.numpy())),
              expect, lowering)


def blocked_case(name, n, c, k, size, stride, pads, dil, bias=True, act=None,
                 const_w=False, expect=BLOCKED, lowering=""):
    on_blocks(f"conv depthwise nChw8c {name}", expect, n, c, c, k, size,
              stride, pads, dil, c, bias, act, const_w, lowering=lowering)


# MobileNetV2's stride 2 (rows of 11 outputs: two 4-pixel tiles and a tail
# of 3; the first row and column touch the padding, emitted statically).
blocked_case("3x3/2 relu6", 1, 16, 3, [23, 21], 2, [1, 1, 1, 1], 1,
             act="relu6")
blocked_case("3x3 two images, const weights, no bias, relu", 2, 24, 3,
             [14, 17], 1, [1, 1, 1, 1], 1, bias=False, act="relu",
             const_w=True)
blocked_case("3x3/2 dilation 2, asymmetric padding", 1, 8, 3, [15, 26], 2,
             [2, 1, 2, 3], 2)
blocked_case("5x5, 30-wide rows (interior tiles in a loop)", 1, 8, 5, [9, 30],
             1, [2, 2, 2, 2], 1, act="relu")
blocked_case("3x3 padding beyond the kernel's reach", 1, 8, 3, [6, 7], 1,
             [3, 3, 3, 3], 1)
# Streaming (forced here; by default for inputs over 8 MiB and layers over
# 32 MiB): prefetches clamped to the plane and non-temporal stores (the
# output buffers are 64-byte aligned: the non-temporal branch), on 1 and 2
# threads.
STREAM = "prefetch-min-bytes=0 nontemporal-min-bytes=1"
blocked_case("3x3/2 relu6, streaming", 2, 16, 3, [23, 21], 2, [1, 1, 1, 1], 1,
             act="relu6", lowering=STREAM,
             expect=BLOCKED + ": 4 pixels of 8 channels per register tile; "
             "input prefetched 32768 bytes ahead; non-temporal stores")
blocked_case("5x5, 30-wide rows, streaming 1 KiB ahead", 3, 24, 5, [9, 30], 1,
             [2, 2, 2, 2], 1, act="relu", lowering=STREAM +
             " prefetch-distance=1024", expect=BLOCKED + ": 4 pixels of 8 "
             "channels per register tile; input prefetched 1024 bytes ahead; "
             "non-temporal stores")
blocked_case("3x3, padding 4, streaming one row ahead (rows clamped above)",
             1, 8, 3, [6, 7], 1, [4, 4, 4, 4], 1, lowering=STREAM +
             " prefetch-distance=32", expect=BLOCKED + ": 4 pixels of 8 "
             "channels per register tile; input prefetched 32 bytes ahead; "
             "non-temporal stores")
# Not both ways blocked: the planar kernel, the relayout left to loops.
mlir, ins, ref = conv_problem(2, 1, 8, 8, 3, [9, 12], 2, [1, 1, 1, 1], 1, 8)
head, body = blocked_mlir(mlir, ins[0].shape, tuple(ref.shape)).split(
    "  %ey =", 1)
out4 = tt(ref.shape)
mlir = (head.replace("-> " + tt(to_blocks(ref.numpy()).shape), f"-> {out4}") +
        f"  return %0 : {out4}\n}}\n")
check_all("conv depthwise 3x3/2, blocked input, NCHW result", mlir,
          [to_blocks(ins[0])] + ins[1:], ref,
          PAIRS)



def dense_blocked_case(name, expect, n, cin, cout, k, size, stride, pads, dil,
                       act=None, const_w=False, block_input=True):
    """A dense conv on blocks, as oneDNN keeps activations: the dense
    kernel reads and writes them in place, padded inputs included."""
    on_blocks(f"conv dense nChw8c {name}", expect, n, cin, cout, k, size,
              stride, pads, dil, 1, act=act, const_w=const_w,
              block_input=block_input)


BOTH = "channel-blocked input and output (nChw8c)"
# Padded inputs on blocks: with finite constant weights the row tiles read
# them in place; with run-time weights the blocks are padded in H and W.
dense_blocked_case("3x3 16->32 relu, const weights, 2 images (row tiles)",
                   "row tiles", 2, 16, 32, 3, [9, 13], 1, [1, 1, 1, 1], 1,
                   act="relu", const_w=True)
dense_blocked_case("3x3 64->64 relu, const weights, 3 images: images inside "
                   "the blocks", "row tiles", 3, 64, 64, 3, [5, 6], 1,
                   [1, 1, 1, 1], 1, act="relu", const_w=True)
dense_blocked_case("3x3 16->32 relu, const weights: both ends blocked", BOTH,
                   1, 16, 32, 3, [9, 13], 1, [1, 1, 1, 1], 1, act="relu",
                   const_w=True)
dense_blocked_case("3x3/2 dilation 2, asymmetric padding, run-time weights",
                   BOTH, 1, 24, 16, 3, [15, 12], 2, [1, 0, 2, 1], 2)
dense_blocked_case("1x1 24->48, 2 images", BOTH, 2, 24, 48, 1, [7, 9], 1,
                   [0, 0, 0, 0], 1, act="relu6")
# ResNet's conv1 shape: 3 input channels stay NCHW, the result is blocks.
dense_blocked_case("7x7/2 3->16, NCHW input, const weights",
                   "channel-blocked output (nChw8c)", 1, 3, 16, 7, [20, 18],
                   2, [3, 3, 3, 3], 1, act="relu", const_w=True,
                   block_input=False)


def chain_case(name, n, cin, mid, cout, size, stride, const_w=True,
               expect_blocked=True, lowering=""):
    """MobileNetV2's inverted residual core, NCHW at the function's edges:
    1x1 expand (relu6) -> depthwise 3x3/stride (relu6) -> 1x1 project. With
    block-depthwise (the default) the activations between the three are in
    8-channel blocks: the expand writes them, the depthwise reads and writes
    them, the project reads them; no relayout is left to run."""
    x = torch.randn(n, cin, size, size)
    w1 = torch.randn(mid, cin, 1, 1) * 0.3
    b1 = torch.randn(mid) * 0.1
    w2 = torch.randn(mid, 1, 3, 3) * 0.5
    b2 = torch.randn(mid) * 0.1
    w3 = torch.randn(cout, mid, 1, 1) * 0.3
    b3 = torch.randn(cout) * 0.1
    h = F.conv2d(x.to(D), w1.to(D), b1.to(D)).clamp(0, 6)
    h = F.conv2d(h, w2.to(D), b2.to(D), stride, 1, 1, mid).clamp(0, 6)
    ref = F.conv2d(h, w3.to(D), b3.to(D))
    o = (size + 2 - 3) // stride + 1
    tx, t1, t2 = tt([n, cin, size, size]), tt([n, mid, size, size]), \
        tt([n, mid, o, o])
    t3 = tt([n, cout, o, o])
    geo = "dilations = array<i64: 1, 1>"
    ws = [("w1", w1), ("w2", w2), ("w3", w3)]
    body = "".join(constant(k, v) for k, v in ws) if const_w else ""
    args = [f"%x: {tx}"] + ([] if const_w else
                            [f"%{k}: {tt(list(v.shape))}" for k, v in ws])
    args += [f"%b1: {tt([mid])}", f"%b2: {tt([mid])}", f"%b3: {tt([cout])}"]
    relu6 = act_attrs("relu6")
    mlir = (
        f"func.func @f({', '.join(args)}) -> {t3} {{\n{body}"
        f"  %1 = qfuse.conv %x, %w1, %b1 {{strides = array<i64: 1, 1>, "
        f"padding = array<i64: 0, 0, 0, 0>, {geo}, groups = 1 : i64{relu6}}}"
        f" : ({tx}, {tt(list(w1.shape))}, {tt([mid])}) -> {t1}\n"
        f"  %2 = qfuse.conv %1, %w2, %b2 {{strides = array<i64: {stride}, "
        f"{stride}>, padding = array<i64: 1, 1, 1, 1>, {geo}, groups = {mid} "
        f": i64{relu6}}} : ({t1}, {tt(list(w2.shape))}, {tt([mid])}) -> {t2}\n"
        f"  %3 = qfuse.conv %2, %w3, %b3 {{strides = array<i64: 1, 1>, "
        f"padding = array<i64: 0, 0, 0, 0>, {geo}, groups = 1 : i64}} : "
        f"({t2}, {tt(list(w3.shape))}, {tt([cout])}) -> {t3}\n"
        f"  return %3 : {t3}\n}}\n")
    ins = [x.numpy()] + ([] if const_w else [w.numpy() for _, w in ws]) + \
        [b1.numpy(), b2.numpy(), b3.numpy()]
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector" +
                             ("=" + lowering if lowering else ""), "vectorize")
    blocked = ["channel-blocked output (nChw8c)",
               "depthwise vector kernel on channel-blocked activations",
               "channel-blocked input (nChw8c)"]
    took = all(b in remark for b in blocked)
    chk.check(f"chain {name}: " + ("blocked between the three convolutions"
                                   if expect_blocked else "not blocked"),
              took == expect_blocked, f"({remark})")
    check_all(f"chain {name}", mlir, ins, ref,
              blocked[1] if expect_blocked else "vector kernel", lowering)


chain_case("24->144->24 stride 1, 14x14", 1, 24, 144, 24, 14, 1)
chain_case("16->96->24 stride 2, 2 images, run-time weights", 2, 16, 96, 24,
           17, 2, const_w=False)
chain_case("8->48->16 stride 2 (block-depthwise=false)", 1, 8, 48, 16, 12, 2,
           expect_blocked=False, lowering="block-depthwise=false")
chain_case("project to 12 channels (not whole blocks): not blocked", 1, 8, 32,
           12, 10, 1, expect_blocked=False)

def mobilenet_v1_case():
    """MobileNetV1's alternation, 3x3 -> depthwise -> 1x1 -> depthwise/2 ->
    1x1: the middle 1x1 is the consumer of one chain and the producer of the
    next, so it reads and writes blocks."""
    name = "chain MobileNetV1-style, a 1x1 blocked on both sides"
    x = torch.randn(1, 8, 14, 14)
    ws = [torch.randn(16, 8, 3, 3) * 0.3, torch.randn(16, 1, 3, 3) * 0.5,
          torch.randn(32, 16, 1, 1) * 0.3, torch.randn(32, 1, 3, 3) * 0.5,
          torch.randn(16, 32, 1, 1) * 0.3]
    # (stride, padding, groups) per conv.
    geo = [(1, 1, 1), (1, 1, 16), (1, 0, 1), (2, 1, 32), (1, 0, 1)]
    h, ref, lines, ty = "%x", x.to(D), [], tt(list(x.shape))
    for i, (w, (s, p, g)) in enumerate(zip(ws, geo)):
        ref = F.conv2d(ref, w.to(D), None, s, p, 1, g)
        if i < 4:
            ref = ref.clamp(min=0)
        out_t = tt(list(ref.shape))
        act = act_attrs("relu") if i < 4 else ""
        lines.append(
            f"  %c{i} = qfuse.conv {h}, %w{i} {{strides = array<i64: {s}, {s}>, "
            f"padding = array<i64: {p}, {p}, {p}, {p}>, dilations = array<i64: "
            f"1, 1>, groups = {g} : i64{act}}} : ({ty}, {tt(list(w.shape))}) "
            f"-> {out_t}\n")
        h, ty = f"%c{i}", out_t
    body = "".join(constant(f"w{i}", w) for i, w in enumerate(ws))
    mlir = (f"func.func @f(%x: {tt(list(x.shape))}) -> {ty} {{\n{body}"
            + "".join(lines) + f"  return {h} : {ty}\n}}\n")
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector", "vectorize")
    chk.check(f"{name}: the middle 1x1 reads and writes blocks",
              "channel-blocked input and output (nChw8c)" in remark and
              remark.count("depthwise vector kernel on channel-blocked") == 2,
              f"({remark})")
    check_all(name, mlir, [x.numpy()], ref,
              "channel-blocked input and output (nChw8c)")


mobilenet_v1_case()


def nonfinite_blocked_case():
    """An inf and a NaN weight on blocked activations: the padding's taps
    multiply zeros (0·inf = NaN at the edges), as PyTorch does."""
    name = "conv depthwise nChw8c 3x3 with an inf and a NaN weight"
    mlir, (x, w, b), _ = conv_problem(2, 1, 16, 16, 3, [7, 20], 1,
                                      [1, 1, 1, 1], 1, 16)
    mlir = blocked_mlir(mlir, x.shape, (1, 16, 7, 20))
    w = w.copy()
    w[0, 0, 0, 0] = np.inf
    w[9, 0, 2, 1] = np.nan
    ref = to_blocks(F.conv2d(torch.from_numpy(x).to(D),
                             torch.from_numpy(w).to(D),
                             torch.from_numpy(b).to(D), 1, 1, 1, 16).numpy())
    got, = run_model(mlir, [to_blocks(x), w, b])
    gen, = run_model(mlir, [to_blocks(x), w, b], ["--lowering=vectorize=false"])
    chk.check(f"{name}: NaN and inf where PyTorch has them",
              np.array_equal(np.isnan(got), np.isnan(ref)) and
              np.array_equal(np.isinf(got), np.isinf(ref)),
              f"({int(np.isnan(got).sum())} NaN, {int(np.isnan(ref).sum())} "
              f"in PyTorch)")
    chk.check(f"{name}: bit-equal to the generic lowering",
              np.array_equal(got, gen, equal_nan=True))


nonfinite_blocked_case()


def nonfinite_depthwise_case(stride, lowering=""):
    """Depthwise weights holding an inf and a NaN: PyTorch multiplies the
    padding's zeros by them (0·inf = NaN), and so must the kernel, which
    reads the plane in place and multiplies a padding tap by a zero vector
    rather than skipping it."""
    name = f"conv depthwise 3x3/{stride} with an inf and a NaN weight"
    if lowering:
        name += f" ({lowering})"
    mlir, (x, w, b), _ = conv_problem(2, 1, 3, 3, 3, [7, 20], stride,
                                      [1, 1, 1, 1], 1, 3)
    w = w.copy()
    w[0, 0, 0, 0] = np.inf
    w[1, 0, 2, 1] = np.nan
    ref = F.conv2d(torch.from_numpy(x).to(D), torch.from_numpy(w).to(D),
                   torch.from_numpy(b).to(D), stride, 1, 1, 3).numpy()
    got, = run_model(mlir, [x, w, b],
                     [f"--lowering={lowering}"] if lowering else [])
    gen, = run_model(mlir, [x, w, b], ["--lowering=vectorize=false"])
    pattern = (np.array_equal(np.isnan(got), np.isnan(ref)) and
               np.array_equal(np.isinf(got), np.isinf(ref)))
    chk.check(f"{name}: NaN and inf where PyTorch has them", pattern,
              f"({int(np.isnan(got).sum())} NaN, {int(np.isnan(ref).sum())} "
              f"in PyTorch)")
    if stride == 1 or lowering:
        # Taps summed in the generic lowering's order.
        chk.check(f"{name}: bit-equal to the generic lowering",
                  np.array_equal(got, gen, equal_nan=True))
    else:
        # Pair sums: the same NaN and inf, the finite values within 1e-6.
        fin = np.isfinite(gen)
        same = (np.array_equal(np.isnan(got), np.isnan(gen)) and
                np.array_equal(np.isinf(got), np.isinf(gen)) and
                np.array_equal(got[~fin & ~np.isnan(gen)],
                               gen[~fin & ~np.isnan(gen)]))
        err = np.abs(got[fin] - gen[fin]).max() / np.abs(gen[fin]).max()
        chk.check(f"{name}: as the generic lowering", same and err <= 1e-6,
                  f"(rel err {err:.2e})")


nonfinite_depthwise_case(1)
nonfinite_depthwise_case(2)
nonfinite_depthwise_case(2, "depthwise-pair-sums=false")


def nonfinite_input_depthwise_case():
    """An inf in the input at every even column of one row. The pair sums
    multiply each even column by the first tap's weight too, in a lane that
    belongs to the next output and is dropped: that infinite product must
    not reach the next output, whose taps are the three columns around it.
    So exactly the outputs whose taps hold an inf are non-finite, as in
    PyTorch."""
    name = "conv depthwise 3x3/2 pair sums, inf input on even columns"
    mlir, (x, w, b), _ = conv_problem(2, 1, 3, 3, 3, [9, 40], 2, [1, 1, 1, 1],
                                      1, 3)
    x = x.copy()
    x[0, 1, 4, 0::2] = np.inf
    x[0, 2, 3, 6] = -np.inf
    ref = F.conv2d(torch.from_numpy(x).to(D), torch.from_numpy(w).to(D),
                   torch.from_numpy(b).to(D), 2, 1, 1, 3).numpy()
    got, = run_model(mlir, [x, w, b])
    fin = np.isfinite(ref)
    pattern = (np.array_equal(np.isnan(got), np.isnan(ref)) and
               np.array_equal(np.isinf(got), np.isinf(ref)))
    err = np.abs(got[fin] - ref[fin]).max() / np.abs(ref[fin]).max()
    chk.check(f"{name}: non-finite exactly where PyTorch is, the rest within "
              "1e-5", pattern and err <= 1e-5,
              f"({int((~np.isfinite(got)).sum())} non-finite, "
              f"{int((~fin).sum())} in PyTorch; rel err {err:.2e})")


nonfinite_input_depthwise_case()


def nonfinite_dense_case():
    """A dense conv whose constant weights hold an inf on a border tap: its
    products with the padding are NaN (0·inf) in PyTorch and in the padded
    convolution, so the kernel must not take the row tiles that skip them."""
    name = "conv 3x3 16->32, constant weights with an inf, no row tiles"
    x = torch.randn(1, 16, 6, 7)
    w = torch.randn(32, 16, 3, 3) * 0.5
    b = torch.randn(32) * 0.1
    w[3, 5, 0, 0] = float("inf")
    ref = F.conv2d(F.pad(x.to(D), [1, 1, 1, 1]), w.to(D), b.to(D))
    attrs = ("strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, "
             "dilations = array<i64: 1, 1>, groups = 1 : i64")
    mlir, ins = one_op("qfuse.conv", attrs, x, w, b, ref, True)
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector=loop-order=weights",
                             "vectorize")
    chk.check(f"{name}: dense kernel without row tiles",
              "dense vector kernel" in remark and "row tiles" not in remark,
              f"({remark})")
    got, = run_model(mlir, ins, ["--lowering=loop-order=weights"])
    gen, = run_model(mlir, ins, ["--lowering=vectorize=false"])
    ref = ref.numpy()
    chk.check(f"{name}: NaN where PyTorch has them",
              np.array_equal(np.isnan(got), np.isnan(ref)),
              f"({int(np.isnan(got).sum())} NaN, {int(np.isnan(ref).sum())} "
              f"in PyTorch)")
    chk.check(f"{name}: bit-equal to the generic lowering",
              np.array_equal(got, gen, equal_nan=True))
# Left to the generic lowering, with the reason.
conv_case("6 output channels per group (3x3)", LEFT + ": 6 output channels", 2,
          1, 3, 6, 3, 6, 1, [1, 1, 1, 1], 1, 1)
conv_case("depth multiplier 2", LEFT, 2, 1, 4, 8, 3, 6, 1, [1, 1, 1, 1], 1, 4)


def one_op(opname, attrs, x, w, b, ref, const_w):
    """A function of one qfuse op on (x, w, b) (w an arith.constant with
    const_w, else an argument) with `attrs` (text inside the braces), and
    its numpy inputs."""
    sig = [tt(x.shape)] + ([] if const_w else [tt(w.shape)]) + [tt(b.shape)]
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(sig))
    wname = "%w" if const_w else "%a1"
    out_t = tt(ref.shape)
    attr_text = f" {{{attrs}}}" if attrs else ""
    mlir = (f"func.func @f({args}) -> {out_t} {{\n"
            f"{constant('w', w) if const_w else ''}"
            f"  %0 = {opname} %a0, {wname}, %a{len(sig) - 1}{attr_text} : "
            f"({tt(x.shape)}, {tt(w.shape)}, {tt(b.shape)}) -> {out_t}\n"
            f"  return %0 : {out_t}\n}}\n")
    ins = [x.numpy()] + ([] if const_w else [w.numpy()]) + [b.numpy()]
    return mlir, ins


def linear_case(name, expect, n, fin, fout, act=None, const_w=False):
    x = torch.randn(n, fin)
    w = torch.randn(fout, fin) * 0.3
    b = torch.randn(fout) * 0.1
    ref = apply_act(F.linear(x.to(D), w.to(D), b.to(D)), act)
    mlir, ins = one_op("qfuse.linear", act_attrs(act)[2:], x, w, b, ref,
                       const_w)
    check_all(f"linear {name}", mlir, ins, ref, expect)


linear_case("5x20 -> 24 relu", "24 output features x 4 rows", 5, 20, 24,
            act="relu")
linear_case("13x33 -> 16, const weights", "16 output features x 6 rows", 13, 33,
            16, const_w=True)
linear_case("2x7 -> 10", LEFT + ": 10 output features", 2, 7, 10)


nonfinite_dense_case()


def transpose_case(name, expect, nd, n, cin, cout, k, size, stride, pads, dil,
                   out_pad, groups, act=None, const_w=True):
    """qfuse.conv_transpose against F.conv_transpose{1,2,3}d."""
    sizes = size if isinstance(size, (list, tuple)) else [size] * nd
    x = torch.randn(n, cin, *sizes)
    w = torch.randn(cin, cout // groups, *[k] * nd) * 0.4
    b = torch.randn(cout) * 0.1
    convf = [None, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][nd]
    # PyTorch pads symmetrically: its result cropped for asymmetric pads.
    lo, hi = pads[:nd], pads[nd:]
    ref = convf(x.to(D), w.to(D), b.to(D), stride, 0, out_pad, groups, dil)
    for d in range(nd):
        ref = ref.narrow(2 + d, lo[d], ref.shape[2 + d] - lo[d] - hi[d])
    ref = apply_act(ref, act)
    attrs = (f"strides = {arr([stride] * nd)}, padding = {arr(pads)}, "
             f"dilations = {arr([dil] * nd)}, output_padding = {arr(out_pad)}, "
             f"groups = {groups} : i64{act_attrs(act)}")
    mlir, ins = one_op("qfuse.conv_transpose", attrs, x, w, b, ref, const_w)
    check_all(f"conv_transpose {name}", mlir, ins, ref, expect)


DILATED = "transposed convolution as a stride-1 convolution on the input dilated"
PHASES = "stride-1 convolutions, one per output phase"
transpose_case("2x2/2 U-Net upsampling 16->8", "as 4 " + PHASES, 2, 1, 16, 8,
               2, 7, 2, [0, 0, 0, 0], 1, [0, 0], 1, act="relu")
transpose_case("3x3/2 pad 1 output_padding 1, groups 2", "as 4 " + PHASES, 2,
               2, 8, 16, 3, 5, 2, [1, 1, 1, 1], 1, [1, 1], 2)
transpose_case("3x3/2 asymmetric pad, 8 channels", "as 4 " + PHASES, 2, 1, 4,
               8, 3, [6, 7], 2, [0, 2, 1, 0], 1, [1, 0], 1, act="relu6")
transpose_case("4x4/3 (phases of 2 and 1 taps)", "as 9 " + PHASES, 2, 1, 3, 8,
               4, 5, 3, [1, 2, 0, 1], 1, [2, 1], 1)
transpose_case("1-D k4/2", "as 2 " + PHASES, 1, 2, 3, 8, 4, 9, 2, [1, 1], 1,
               [0], 1)
transpose_case("3-D 2x2x2/2", "as 8 " + PHASES, 3, 1, 4, 8, 2, 3, 2,
               [0, 0, 0, 0, 0, 0], 1, [0, 0, 0], 1)
# Dilation, or a kernel smaller than its stride: the dilated input.
transpose_case("asymmetric pad, dilation 2", DILATED, 2, 1, 4, 8, 3, 6, 1,
               [1, 2, 2, 0], 2, [0, 0], 1, act="relu6")
transpose_case("1x1/2 (kernel smaller than the stride)", DILATED, 2, 1, 8, 8,
               1, 5, 2, [0, 0, 0, 0], 1, [1, 1], 1)
transpose_case("run-time weight", LEFT + ": a transposed convolution needs a "
               "constant weight", 2, 1, 4, 8, 3, 5, 2, [1, 1, 1, 1], 1, [1, 1],
               1, const_w=False)
transpose_case("2x2/2 padding 2 (phases crop the input)", "as 4 " + PHASES, 2,
               1, 4, 8, 2, 6, 2, [2, 2, 2, 2], 1, [0, 0], 1)
transpose_case("stride 1, padding beyond the kernel reach", LEFT + ": a "
               "transposed convolution with more padding", 2, 1, 4, 8, 2, 6, 1,
               [2, 2, 2, 2], 1, [0, 0], 1)

print(f"bit-equal to the generic lowering: {bit_equal} cases")
sys.exit(chk.close())
