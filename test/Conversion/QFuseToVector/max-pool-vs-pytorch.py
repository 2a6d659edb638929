# convert-qfuse-to-vector's max-pooling kernel (linalg.pooling_nchw_max,
# 2x2 and 3x3 windows at stride 2, in the form the ONNX importer gives:
# a tensor.pad by -inf and a fill of -inf), JIT-run by qfuse-run, against:
#   * PyTorch's max_pool2d in float32: bit-equal (a maximum is exact), NaN
#     where PyTorch has NaN;
#   * the generic linalg lowering (--lowering=vectorize=false): bit-equal;
#   * itself on 2 OpenMP threads: bit-equal.
# Shapes: ResNet's 112x112, odd and small planes (a last chunk of 1 to 7
# columns, planes narrower than one chunk), two images, ceil_mode's extra
# bottom/right padding, inf and NaN inputs, and a padding value and initial
# value other than -inf. The remark of each op names the kernel, or why the
# op was left to the generic lowering.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np
import torch
import torch.nn.functional as F

from qfuse_testing import Checker, pass_remarks, run_model

torch.manual_seed(5)
chk = Checker()
KERNEL = "max-pooling vector kernel"
LEFT = "left to the generic lowering"


def tt(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def pool_mlir(x_shape, k, pads, out_shape, pad_value="0xFF800000",
              init="0xFF800000", stride=2):
    """One linalg.pooling_nchw_max over `x_shape`, padded by `pads` (top,
    left, bottom, right) with `pad_value`, its output filled with `init`."""
    t, l, b, r = pads
    padded = [x_shape[0], x_shape[1], x_shape[2] + t + b, x_shape[3] + l + r]
    body = (f"  %pv = arith.constant {pad_value} : f32\n"
            f"  %iv = arith.constant {init} : f32\n")
    src = "%x"
    if any(pads):
        body += (f"  %p = tensor.pad %x low[0, 0, {t}, {l}] high[0, 0, {b}, "
                 f"{r}] {{\n  ^bb0(%i0: index, %i1: index, %i2: index, "
                 f"%i3: index):\n    tensor.yield %pv : f32\n  }} : "
                 f"{tt(x_shape)} to {tt(padded)}\n")
        src = "%p"
    body += (f"  %win = tensor.empty() : tensor<{k}x{k}xf32>\n"
             f"  %e = tensor.empty() : {tt(out_shape)}\n"
             f"  %f = linalg.fill ins(%iv : f32) outs(%e : {tt(out_shape)}) "
             f"-> {tt(out_shape)}\n"
             f"  %y = linalg.pooling_nchw_max {{dilations = dense<1> : "
             f"tensor<2xi64>, strides = dense<{stride}> : tensor<2xi64>}} "
             f"ins({src}, %win : {tt(padded)}, tensor<{k}x{k}xf32>) "
             f"outs(%f : {tt(out_shape)}) -> {tt(out_shape)}\n"
             f"  return %y : {tt(out_shape)}\n")
    return (f"func.func @pool(%x: {tt(x_shape)}) -> {tt(out_shape)} {{\n"
            + body + "}\n")


def case(name, x, k, padding=0, ceil_mode=False, specials=False):
    """PyTorch's max_pool2d(x, k, 2, padding, ceil_mode) as the importer
    writes it, checked three ways."""
    ref = F.max_pool2d(x, k, 2, padding, ceil_mode=ceil_mode).numpy()
    h, w = x.shape[2:]
    oh, ow = ref.shape[2:]
    # The bottom / right padding that makes the output count (ceil_mode's
    # last window may start in the padding's reach).
    b = max(0, (oh - 1) * 2 + k - h - padding)
    r = max(0, (ow - 1) * 2 + k - w - padding)
    mlir = pool_mlir(tuple(x.shape), k, (padding, padding, b, r), ref.shape)
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector", "vectorize")
    chk.check(f"{name}: kernel", KERNEL in remark, f"({remark})")
    got, = run_model(mlir, [x.numpy()])
    same = np.array_equal(got, ref, equal_nan=True)
    chk.check(f"{name}: vs PyTorch bit-equal", same,
              "" if same else f"(max abs diff {np.nanmax(np.abs(got - ref))})")
    gen, = run_model(mlir, [x.numpy()], ["--lowering=vectorize=false"])
    chk.check(f"{name}: vs generic lowering bit-equal",
              np.array_equal(got.view(np.uint32), gen.view(np.uint32)))
    par, = run_model(mlir, [x.numpy()], ["--num-threads=2"])
    chk.check(f"{name}: 2 threads bit-equal",
              np.array_equal(got.view(np.uint32), par.view(np.uint32)))
    if specials:
        chk.check(f"{name}: NaN where PyTorch has NaN",
                  np.array_equal(np.isnan(got), np.isnan(ref)) and
                  np.isnan(ref).any())


case("ResNet 3x3/2 pad 1, 112x112x64", torch.randn(1, 64, 112, 112), 3, 1)
case("3x3/2 pad 1, 2 images, 13x21 (chunk tails)", torch.randn(2, 3, 13, 21),
     3, 1)
case("3x3/2 pad 1, 5x5 (narrower than one chunk)", torch.randn(1, 4, 5, 5), 3,
     1)
case("3x3/2 pad 1, 40x47, ceil_mode (bottom/right padding)",
     torch.randn(1, 2, 40, 47), 3, 1, ceil_mode=True)
case("2x2/2, 33x50 (odd rows, floor)", torch.randn(1, 3, 33, 50), 2)
case("2x2/2, 9x17, ceil_mode", torch.randn(2, 2, 9, 17), 2, ceil_mode=True)
# All negative inputs: the padding (-inf) must not win; then inf and NaN.
case("3x3/2 pad 1, all negative", -torch.rand(1, 2, 18, 34) - 1.0, 3, 1)
x = torch.randn(1, 2, 20, 36)
x[0, 0, 0, 0] = float("nan")
x[0, 0, 7, 19] = float("inf")
x[0, 1, 19, 35] = float("nan")
x[0, 1, 10, 0] = float("-inf")
case("3x3/2 pad 1, NaN and inf inputs", x, 3, 1, specials=True)

# Another padding value and initial value: each still counts (the generic
# lowering is the reference; PyTorch has no such pooling). Inputs in
# [-0.9, 0.3): some windows' maximum is below the initial value.
x = torch.rand(1, 2, 11, 19) * 1.2 - 0.9
mlir = pool_mlir((1, 2, 11, 19), 3, (1, 1, 1, 1), (1, 2, 6, 10),
                 pad_value="0.5", init="0.25")
_, remark = pass_remarks(mlir, "--convert-qfuse-to-vector", "vectorize")
chk.check("pad 0.5, init 0.25: kernel", KERNEL in remark, f"({remark})")
got, = run_model(mlir, [x.numpy()])
gen, = run_model(mlir, [x.numpy()], ["--lowering=vectorize=false"])
chk.check("pad 0.5, init 0.25: vs generic lowering bit-equal",
          np.array_equal(got, gen) and (got == 0.5).any() and
          (got == 0.25).any())

# Left to the generic lowering, with a remark that says why.
for name, mlir, why in [
        ("stride 1", pool_mlir((1, 2, 8, 8), 3, (1, 1, 1, 1), (1, 2, 8, 8),
                               stride=1), "the kernel takes 2x2 and 3x3"),
        ("3x3/2 without padding",
         pool_mlir((1, 2, 9, 9), 3, (0, 0, 0, 0), (1, 2, 4, 4)),
         "a 3x3 window takes 1 there"),
        ("3x3/2 padding 2", pool_mlir((1, 2, 9, 9), 3, (2, 2, 2, 2),
                                      (1, 2, 6, 6)),
         "a 3x3 window takes 1 there"),
        ("5x5/2", pool_mlir((1, 2, 9, 9), 5, (2, 2, 2, 2), (1, 2, 5, 5)),
         "the kernel takes 2x2 and 3x3")]:
    _, remark = pass_remarks(mlir, "--convert-qfuse-to-vector", "vectorize")
    chk.check(f"{name}: left, with why", LEFT in remark and why in remark,
              f"({remark})")
    x = torch.randn(1, 2, 9 if name != "stride 1" else 8,
                    9 if name != "stride 1" else 8)
    got, = run_model(mlir, [x.numpy()])
    gen, = run_model(mlir, [x.numpy()], ["--lowering=vectorize=false"])
    chk.check(f"{name}: runs as the generic lowering", np.array_equal(got, gen))

sys.exit(chk.close())
