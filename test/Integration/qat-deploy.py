# QAT forms, JIT-run by qfuse-run:
#  * --qat-to-deploy: the deploy form gives the outputs of the frozen QAT op
#    on random inputs (constant weights: folded in f64; run-time weights:
#    linalg arithmetic), max |after - before| / max |before| <= 1e-5;
#  * --fuse-qat{mode=frozen}: the QAT op gives the outputs of the original
#    fq(W) -> conv -> bn -> relu graph (its weight quant scale rescaled by |k|),
#    same tolerance;
#  * conv_transpose + BN in train mode against PyTorch computing the approximate
#    ConvBn forward with F.conv_transpose2d and F.batch_norm(training=True)
#    (torch 1.13 has no fused ConvTranspose QAT module): output 1e-5, running
#    statistics 1e-6.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np
import torch
import torch.nn.functional as F

from qfuse_testing import Checker, compare_after, constant, run_model, ttype

torch.manual_seed(11)
chk = Checker()


def arr(xs):
    return "array<i64: " + ", ".join(str(v) for v in xs) + ">"


def stats(c):
    g = torch.rand(c) + 0.5
    g[0] = -g[0]
    return g, torch.randn(c) * 0.2, torch.randn(c) * 0.3, torch.rand(c) + 0.3


def qat_mlir(kind, x, w, b, g, beta, m, v, fq, runtime, mode="frozen"):
    """A function running one qfuse.qat_conv_bn; with `runtime`, every tensor
    is an argument, else only x."""
    cout = m.shape[0]
    if kind == "linear":
        out_shape = (x.shape[0], cout)
        attrs = "strides = array<i64>, padding = array<i64>, dilations = array<i64>, output_padding = array<i64>"
    elif kind == "conv":
        out_shape = (x.shape[0], cout, x.shape[2], x.shape[3])
        attrs = f"strides = {arr([1, 1])}, padding = {arr([1] * 4)}, dilations = {arr([1, 1])}, output_padding = array<i64>"
    else:  # conv_transpose, stride 2, groups 2
        out_shape = (x.shape[0], cout, 2 * x.shape[2] - 1 + 1, 2 * x.shape[3] - 1 + 1)
        attrs = (f"strides = {arr([2, 2])}, padding = {arr([0] * 4)}, dilations = {arr([1, 1])}, "
                 f"output_padding = {arr([0, 0])}, groups = 2 : i64, transposed")
    named = [("w", w)] + ([("b", b)] if b is not None else []) + \
        [("m", m), ("v", v), ("g", g), ("beta", beta)]
    if fq is not None:
        named += [("s", fq[0]), ("zp", fq[1])]
        attrs += ", weight_quant_min = -127 : i64, weight_quant_max = 127 : i64, weight_axis = 0 : i64"
    attrs += f", epsilon = 1.0e-03 : f64, momentum = 1.5e-01 : f64, mode = #qfuse.qat_mode<{mode}>, activation = #qfuse.activation<relu>"
    out_t, st_t = ttype(torch.empty(out_shape)), ttype(m)
    sig = [f"%x: {ttype(x)}"] + ([f"%{n}: {ttype(t)}" for n, t in named] if runtime else [])
    body = "" if runtime else "".join(constant(n, t) for n, t in named)
    ops = "%x, %w" + (" bias(%b)" if b is not None else "") + " stats(%m, %v) scale(%g) offset(%beta)"
    if fq is not None:
        ops += " weight_quant(%s, %zp)"
    types = ", ".join([ttype(x)] + [ttype(t) for _, t in named])
    mlir = (f"func.func @f({', '.join(sig)}) -> ({out_t}, {st_t}, {st_t}) {{\n{body}"
            f"  %y, %m1, %v1 = qfuse.qat_conv_bn {ops} {{{attrs}}} : ({types}) -> ({out_t}, {st_t}, {st_t})\n"
            f"  return %y, %m1, %v1 : {out_t}, {st_t}, {st_t}\n}}\n")
    inputs = [x] + ([t for _, t in named] if runtime else [])
    return mlir, [t.numpy() for t in inputs]


def deploy_case(name, kind, with_fq, runtime):
    if kind == "linear":
        x, w = torch.randn(6, 10), torch.randn(5, 10) * 0.3
    elif kind == "conv":
        x, w = torch.randn(2, 3, 6, 6), torch.randn(5, 3, 3, 3) * 0.3
    else:
        x, w = torch.randn(1, 4, 4, 4), torch.randn(4, 3, 2, 2) * 0.3
    cout = 6 if kind == "conv_transpose" else 5
    g, beta, m, v = stats(cout)
    b = torch.randn(cout) * 0.1
    fq = None
    if with_fq:
        fq = (torch.full([cout], 0.01), torch.zeros(cout, dtype=torch.int32))
    mlir, inputs = qat_mlir(kind, x, w, b, g, beta, m, v, fq, runtime)
    errs = compare_after(mlir, "qat-to-deploy", inputs)
    ok = len(errs) == 3 and max(errs) <= 1e-5
    chk.check(f"qat-to-deploy {name}: deploy == frozen QAT op", ok,
              f"(rel errs {', '.join(f'{e:.2e}' for e in errs)}, tol 1e-05)")


deploy_case("conv per-channel fq, constants", "conv", True, False)
deploy_case("conv per-channel fq, run-time weights", "conv", True, True)
deploy_case("linear, constants", "linear", False, False)
deploy_case("linear, run-time weights", "linear", False, True)
deploy_case("conv_transpose groups=2, constants", "conv_transpose", False, False)

# fuse-qat{mode=frozen} keeps the original graph's outputs.
x_t = "tensor<2x3x6x6xf32>"
w = torch.randn(4, 3, 3, 3) * 0.3
g, beta, m, v = stats(4)
s = torch.full([4], 0.004)
mlir = (f"func.func @f(%x: {x_t}) -> tensor<2x4x6x6xf32> {{\n" +
        constant("w", w) + constant("s", s) + constant("zp", torch.zeros(4, dtype=torch.int32)) +
        constant("m", m) + constant("v", v) + constant("g", g) + constant("b", beta) +
        "  %wq = qfuse.fake_quant %w, %s, %zp {axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64} : "
        "(tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<4x3x3x3xf32>\n"
        f"  %0 = qfuse.conv %x, %wq {{strides = {arr([1, 1])}, padding = {arr([1] * 4)}, dilations = {arr([1, 1])}}} : "
        f"({x_t}, tensor<4x3x3x3xf32>) -> tensor<2x4x6x6xf32>\n"
        "  %1 = qfuse.batch_norm %0, %m, %v scale(%g) offset(%b) {epsilon = 1.0e-03 : f64} : "
        "tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>\n"
        "  %2 = qfuse.relu %1 : tensor<2x4x6x6xf32>\n"
        "  return %2 : tensor<2x4x6x6xf32>\n}\n")
errs = compare_after(mlir, "fuse-qat{mode=frozen}")
chk.check("fuse-qat{mode=frozen} == original fq->conv->bn->relu", errs and max(errs) <= 1e-5,
          f"(rel err {max(errs):.2e}, tol 1e-05)")
errs = compare_after(mlir, "fuse-qat{mode=frozen},qat-to-deploy")
chk.check("fuse-qat{mode=frozen} then qat-to-deploy == original", errs and max(errs) <= 1e-5,
          f"(rel err {max(errs):.2e}, tol 1e-05)")

# conv_transpose + BN, train mode, against PyTorch (no weight quant).
x, w = torch.randn(2, 4, 4, 4), torch.randn(4, 3, 2, 2) * 0.3
g, beta, m, v = stats(6)
b = torch.randn(6) * 0.1
mlir, inputs = qat_mlir("conv_transpose", x, w, b, g, beta, m, v, None, True, "train")
y, m1, v1 = run_model(mlir, inputs)
k = g / torch.sqrt(v + 1e-3)
kw = k.reshape(2, 1, 3).expand(2, 2, 3).reshape(4, 3, 1, 1)  # output channel of each weight row/column
rm, rv = m.clone().double(), v.clone().double()
conv = F.conv_transpose2d(x.double(), (w * kw).double(), None, 2, 0, 0, 2)
conv = conv / k.double().reshape(1, -1, 1, 1) + b.double().reshape(1, -1, 1, 1)
ref = torch.relu(F.batch_norm(conv, rm, rv, g.double(), beta.double(), True, 0.15, 1e-3))
e = np.abs(y - ref.numpy()).max() / np.abs(ref.numpy()).max()
chk.check("conv_transpose groups=2 train: output vs PyTorch", e <= 1e-5, f"(rel err {e:.2e}, tol 1e-05)")
em = np.abs(m1 - rm.numpy()).max() / np.abs(rm.numpy()).max()
ev = np.abs(v1 - rv.numpy()).max() / np.abs(rv.numpy()).max()
chk.check("conv_transpose groups=2 train: running mean vs PyTorch", em <= 1e-6, f"(rel err {em:.2e})")
chk.check("conv_transpose groups=2 train: running var vs PyTorch", ev <= 1e-6, f"(rel err {ev:.2e})")

sys.exit(chk.close())
