# Numerical check of every --fold-bn pattern against PyTorch (the oracle):
#  1. the folded weights, biases, pad values and quant scales are bit-equal to
#     the float64 formulas of docs/Numerics.md rounded once to the element type;
#  2. the IR after the fold computes what PyTorch's conv/linear -> BatchNorm
#     (eval) computes, on random inputs, in float64 from the IR's own
#     constants. Tolerance, relative to the output's magnitude (only the single
#     rounding of the folded values differs): 1e-9 for f64, 1e-6 for f32,
#     1e-2 for f16/bf16 weights;
#  3. the same function JIT-run before and after --fold-bn (qfuse-run
#     --compare-after) on random inputs agrees: max |after - before| /
#     max |before| <= 1e-5 for f32 (both sides round in f32), 1e-12 for f64,
#     1e-2 for f16 and 3e-2 for bf16 (both sides round to 8 or 11 bits);
#     also for the run-time fold, with weights and statistics as arguments.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import torch
import torch.nn.functional as F

from qfuse_testing import Checker, compare_after, constant, dense, opt, \
    constants, ops, round_to, ttype

torch.manual_seed(1234)
chk = Checker()
D = torch.float64


def bn_params(c, dtype, affine=True, neg=True):
    g = torch.rand(c, dtype=D) + 0.5
    if neg:
        g[0] = -g[0]
    b = torch.randn(c, dtype=D) * 0.3
    m = torch.randn(c, dtype=D) * 0.5
    v = torch.rand(c, dtype=D) + 0.2
    cast = lambda t: t.to(dtype)
    return (cast(g) if affine else None, cast(b) if affine else None,
            cast(m), cast(v))


def bn_ref(y, g, b, m, v, eps):
    return F.batch_norm(y, m.to(D), v.to(D), None if g is None else g.to(D),
                        None if b is None else b.to(D), False, 0.0, eps)


def bn_ir(val, c, g, b, m, v, eps, out_t):
    s = f"scale(%g) " if g is not None else ""
    s += f"offset(%b) " if b is not None else ""
    types = f"{out_t}, {ttype(m)}, {ttype(v)}"
    types += f", {ttype(g)}" if g is not None else ""
    types += f", {ttype(b)}" if b is not None else ""
    return (f"  %y = qfuse.batch_norm {val}, %m, %v {s}{{epsilon = {eps:.17e} : f64}}"
            f" : {types}\n")


def bn_consts(g, b, m, v):
    s = constant("m", m) + constant("v", v)
    if g is not None:
        s += constant("g", g)
    if b is not None:
        s += constant("b", b)
    return s


def k_of(g, v, eps):
    gg = torch.ones_like(v, dtype=D) if g is None else g.to(D)
    return gg / torch.sqrt(v.to(D) + eps)


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def conv_attrs(nd, stride, pad, dil, groups, extra=""):
    a = lambda xs: "array<i64: " + ", ".join(str(x) for x in xs) + ">"
    return (f"{{strides = {a([stride]*nd)}, padding = {a([pad]*2*nd)}, "
            f"dilations = {a([dil]*nd)}, groups = {groups} : i64{extra}}}")


def bit_equal(name, got, want):
    ok = got.shape == want.shape and torch.equal(got, want)
    chk.check(name, ok, "" if ok else
              f"max diff {(got - want).abs().max().item():.3e}")


RUN_TOL = {torch.float32: 1e-5, torch.float64: 1e-12, torch.float16: 1e-2,
           torch.bfloat16: 3e-2}


def run_check(case, mlir, dtype=torch.float32, inputs=None):
    errs = compare_after(mlir, "fold-bn", inputs)
    tol = RUN_TOL[dtype]
    ok = bool(errs) and all(e <= tol for e in errs)
    chk.check(f"{case}: JIT-run before == after --fold-bn", ok,
              f"(rel err {max(errs) if errs else float('nan'):.2e}, tol {tol:.0e})")


def after_fold(mlir, case, dtype=torch.float32):
    run_check(case, mlir, dtype)
    out, err = opt(mlir, "--fold-bn", "--remarks-filter=fold-bn",
                   "--remark-format=emitRemark")
    folded = "qfuse.batch_norm" not in out
    chk.check(f"{case}: batch-norm folded", folded,
              "" if folded else err.strip().splitlines()[0:1])
    return out, err


#===----------------------------------------------------------------------===#
# conv (1/2/3-D, groups, depthwise, bias or not), conv -> BN
#===----------------------------------------------------------------------===#
def conv_case(name, nd, cin, cout, k, stride=1, pad=0, dil=1, groups=1,
              bias=True, dtype=torch.float32, eps=1e-5, affine=True):
    spatial = [7] * nd
    x = torch.randn(2, cin, *spatial, dtype=D)
    w = (torch.randn(cout, cin // groups, *[k] * nd, dtype=D) * 0.5).to(dtype)
    bb = (torch.randn(cout, dtype=D) * 0.1).to(dtype) if bias else None
    g, b, m, v = bn_params(cout, dtype, affine)
    convf = [None, F.conv1d, F.conv2d, F.conv3d][nd]
    y_ref = bn_ref(convf(x, w.to(D), None if bb is None else bb.to(D), stride,
                         pad, dil, groups), g, b, m, v, eps)
    xin = x.to(dtype)
    out_t = ttype(torch.empty(y_ref.shape, dtype=dtype))
    mlir = "func.func @f(%x: " + ttype(xin) + ") -> " + out_t + " {\n"
    mlir += constant("w", w) + bn_consts(g, b, m, v)
    operands = "%x, %w"
    types = f"{ttype(xin)}, {ttype(w)}"
    if bb is not None:
        mlir += constant("bias", bb)
        operands += ", %bias"
        types += f", {ttype(bb)}"
    mlir += (f"  %c = qfuse.conv {operands} "
             f"{conv_attrs(nd, stride, pad, dil, groups)} : ({types}) -> {out_t}\n")
    mlir += bn_ir("%c", cout, g, b, m, v, eps, out_t)
    mlir += f"  return %y : {out_t}\n}}\n"
    out, _ = after_fold(mlir, name, dtype)
    conv = ops(out, "qfuse.conv")
    if not conv:
        chk.check(f"{name}: conv present", False)
        return
    cs = constants(out)
    w2, b2 = cs[conv[0][1][1]], cs[conv[0][1][2]]
    kk = k_of(g, v, eps)
    shape = [-1] + [1] * (w.dim() - 1)
    bit_equal(f"{name}: W' == round(W*k)", w2, round_to(w.to(D) * kk.reshape(shape), dtype))
    b0 = torch.zeros(cout, dtype=D) if bb is None else bb.to(D)
    beta = torch.zeros(cout, dtype=D) if b is None else b.to(D)
    bit_equal(f"{name}: b' == round((b-mu)*k+beta)", b2,
              round_to((b0 - m.to(D)) * kk + beta, dtype))
    y = convf(x, w2, b2, stride, pad, dil, groups)
    tol = 1e-9 if dtype in (torch.float32, torch.float64) else 1e-2
    if dtype == torch.float32:
        tol = 1e-6  # W' and b' are rounded to f32 once
    e = rel_err(y, y_ref)
    chk.check(f"{name}: output matches PyTorch conv->bn", e <= tol,
              f"(rel err {e:.2e}, tol {tol:.0e})")


conv_case("conv2d", 2, 3, 8, 3, pad=1)
conv_case("conv2d no bias eps=1e-3", 2, 4, 6, 3, stride=2, bias=False, eps=1e-3)
conv_case("conv1d dilated", 1, 4, 5, 3, dil=2, pad=2)
conv_case("conv3d", 3, 2, 4, 3, pad=1)
conv_case("conv2d groups=2", 2, 4, 6, 3, groups=2, pad=1)
conv_case("conv2d depthwise", 2, 6, 6, 3, groups=6, pad=1)
conv_case("conv2d affine=False", 2, 3, 4, 1, affine=False)
conv_case("conv2d f64", 2, 3, 4, 3, dtype=torch.float64)
conv_case("conv2d f16", 2, 3, 4, 3, dtype=torch.float16)
conv_case("conv2d bf16", 2, 3, 4, 3, dtype=torch.bfloat16)


#===----------------------------------------------------------------------===#
# conv_transpose -> BN (the axis other tools get wrong with groups > 1)
#===----------------------------------------------------------------------===#
def convt_case(name, nd, cin, cout, k, stride, pad, opad, groups,
               dtype=torch.float32, eps=1e-5):
    x = torch.randn(1, cin, *[5] * nd, dtype=D)
    w = (torch.randn(cin, cout // groups, *[k] * nd, dtype=D) * 0.5).to(dtype)
    g, b, m, v = bn_params(cout, dtype)
    convf = [None, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][nd]
    y_ref = bn_ref(convf(x, w.to(D), None, stride, pad, opad, groups), g, b, m, v, eps)
    xin = x.to(dtype)
    out_t = ttype(torch.empty(y_ref.shape, dtype=dtype))
    opads = ", ".join([str(opad)] * nd)
    mlir = "func.func @f(%x: " + ttype(xin) + ") -> " + out_t + " {\n"
    mlir += constant("w", w) + bn_consts(g, b, m, v)
    mlir += (f"  %c = qfuse.conv_transpose %x, %w "
             f"{conv_attrs(nd, stride, pad, 1, groups, ', output_padding = array<i64: ' + opads + '>')}"
             f" : ({ttype(xin)}, {ttype(w)}) -> {out_t}\n")
    mlir += bn_ir("%c", cout, g, b, m, v, eps, out_t)
    mlir += f"  return %y : {out_t}\n}}\n"
    out, _ = after_fold(mlir, name)
    conv = ops(out, "qfuse.conv_transpose")
    cs = constants(out)
    w2, b2 = cs[conv[0][1][1]], cs[conv[0][1][2]]
    kk = k_of(g, v, eps)
    # Reference scaling: output channel o = grp*(Cout/g)+j sits at rows of
    # group grp, column j.
    cpg = cout // groups
    kw = kk.reshape(groups, 1, cpg).expand(groups, cin // groups, cpg).reshape(cin, cpg)
    kw = kw.reshape(cin, cpg, *[1] * nd)
    bit_equal(f"{name}: W' == round(W*k) on the grouped output axis", w2,
              round_to(w.to(D) * kw, dtype))
    y = convf(x, w2, b2, stride, pad, opad, groups)
    e = rel_err(y, y_ref)
    chk.check(f"{name}: output matches PyTorch conv_transpose->bn", e <= 1e-6,
              f"(rel err {e:.2e}, tol 1e-06)")


convt_case("conv_transpose2d", 2, 4, 6, 3, 2, 1, 1, 1)
convt_case("conv_transpose2d groups=2", 2, 4, 6, 3, 2, 1, 1, 2)
convt_case("conv_transpose1d groups=3", 1, 6, 9, 4, 2, 1, 0, 3)
convt_case("conv_transpose3d groups=2", 3, 4, 4, 2, 2, 0, 0, 2)


#===----------------------------------------------------------------------===#
# linear -> BN1d
#===----------------------------------------------------------------------===#
def linear_case(name, affine, bias, eps=1e-5):
    x = torch.randn(5, 12, dtype=D)
    w = (torch.randn(7, 12, dtype=D) * 0.3).float()
    bb = (torch.randn(7, dtype=D) * 0.1).float() if bias else None
    g, b, m, v = bn_params(7, torch.float32, affine)
    y_ref = bn_ref(F.linear(x, w.double(), None if bb is None else bb.double()),
                   g, b, m, v, eps)
    mlir = "func.func @f(%x: tensor<5x12xf32>) -> tensor<5x7xf32> {\n"
    mlir += constant("w", w) + bn_consts(g, b, m, v)
    if bb is not None:
        mlir += constant("bias", bb)
        mlir += ("  %c = qfuse.linear %x, %w, %bias : (tensor<5x12xf32>, "
                 "tensor<7x12xf32>, tensor<7xf32>) -> tensor<5x7xf32>\n")
    else:
        mlir += ("  %c = qfuse.linear %x, %w : (tensor<5x12xf32>, "
                 "tensor<7x12xf32>) -> tensor<5x7xf32>\n")
    mlir += bn_ir("%c", 7, g, b, m, v, eps, "tensor<5x7xf32>")
    mlir += "  return %y : tensor<5x7xf32>\n}\n"
    out, _ = after_fold(mlir, name)
    lin = ops(out, "qfuse.linear")
    cs = constants(out)
    w2, b2 = cs[lin[0][1][1]], cs[lin[0][1][2]]
    kk = k_of(g, v, eps)
    bit_equal(f"{name}: W' == round(W*k)", w2, round_to(w.double() * kk[:, None], torch.float32))
    e = rel_err(F.linear(x, w2, b2), y_ref)
    chk.check(f"{name}: output matches PyTorch linear->bn1d", e <= 1e-6,
              f"(rel err {e:.2e}, tol 1e-06)")


linear_case("linear+bn1d", True, True)
linear_case("linear+bn1d affine=False no bias", False, False, eps=1e-3)


#===----------------------------------------------------------------------===#
# BN before conv / linear (with and without padding)
#===----------------------------------------------------------------------===#
def bn_before_case(name, pad, groups=1, neg=True, eps=1e-5):
    cin, cout = 4, 6
    x = torch.randn(2, cin, 6, 6, dtype=D)
    w = (torch.randn(cout, cin // groups, 3, 3, dtype=D) * 0.5).float()
    bb = (torch.randn(cout, dtype=D) * 0.1).float()
    g, b, m, v = bn_params(cin, torch.float32, neg=neg)
    y_ref = F.conv2d(bn_ref(x, g, b, m, v, eps), w.double(), bb.double(), 1, pad,
                     1, groups)
    out_t = ttype(torch.empty(y_ref.shape, dtype=torch.float32))
    x_t = ttype(x.float())
    mlir = f"func.func @f(%x: {x_t}) -> {out_t} {{\n"
    mlir += constant("w", w) + constant("bias", bb) + bn_consts(g, b, m, v)
    mlir += bn_ir("%x", cin, g, b, m, v, eps, x_t)
    mlir += (f"  %c = qfuse.conv %y, %w, %bias {conv_attrs(2, 1, pad, 1, groups)}"
             f" : ({x_t}, {ttype(w)}, {ttype(bb)}) -> {out_t}\n")
    mlir += f"  return %c : {out_t}\n}}\n"
    out, _ = after_fold(mlir, name)
    conv = ops(out, "qfuse.conv")
    cs = constants(out)
    w2, b2 = cs[conv[0][1][1]], cs[conv[0][1][2]]
    a = k_of(g, v, eps)
    c = b.double() - m.double() * a
    ci = torch.arange(cout)[:, None] // (cout // groups) * (cin // groups) + \
        torch.arange(cin // groups)[None, :]
    bit_equal(f"{name}: W' == round(W*a[in])", w2,
              round_to(w.double() * a[ci][:, :, None, None], torch.float32))
    bias_ref = bb.double() + (w.double() * c[ci][:, :, None, None]).sum((1, 2, 3))
    bit_equal(f"{name}: b' == round(b + sum W*c)", b2, round_to(bias_ref, torch.float32))
    xin = x
    if pad:
        pads = ops(out, "tensor.pad")
        chk.check(f"{name}: explicit pad emitted", len(pads) == 1)
        pv = [cs[n] for n in cs if cs[n].shape == (cin,) and n not in
              (conv[0][1][2],)]
        pval = round_to(-c / a, torch.float32)
        chk.check(f"{name}: pad values == round(-c/a)",
                  any(torch.equal(p, pval) for p in pv))
        xin = F.pad(x, [pad] * 4)
        for ch in range(cin):
            border = torch.ones(6 + 2 * pad, 6 + 2 * pad, dtype=torch.bool)
            border[pad:-pad, pad:-pad] = False
            xin[:, ch][:, border] = pval[ch]
        y = F.conv2d(xin, w2, b2, 1, 0, 1, groups)
    else:
        chk.check(f"{name}: no pad emitted", not ops(out, "tensor.pad"))
        y = F.conv2d(xin, w2, b2, 1, 0, 1, groups)
    e = rel_err(y, y_ref)
    chk.check(f"{name}: output matches PyTorch bn->conv", e <= 1e-6,
              f"(rel err {e:.2e}, tol 1e-06)")


bn_before_case("bn->conv unpadded", 0)
bn_before_case("bn->conv padded (explicit pad -c/a)", 1)
bn_before_case("bn->conv padded groups=2", 1, groups=2)


#===----------------------------------------------------------------------===#
# Through a weight fake-quant: fq(W; s) -> conv -> BN
#===----------------------------------------------------------------------===#
def fq_ref(w, s, zp, qmin, qmax, axis):
    shape = [-1] + [1] * (w.dim() - 1) if axis is not None else []
    s_ = s.reshape(shape) if axis is not None else s
    z_ = zp.reshape(shape) if axis is not None else zp
    q = torch.clamp(torch.round(w / s_) + z_, qmin, qmax)
    return (q - z_) * s_


def fq_case(name, qmin, qmax, neg, expect_fold, per_channel=True):
    cout, cin = 6, 3
    x = torch.randn(1, cin, 6, 6, dtype=D)
    w = (torch.randn(cout, cin, 3, 3) * 0.5).float()
    if per_channel:
        s = (w.abs().amax((1, 2, 3)) / qmax).float()
        zp = torch.zeros(cout, dtype=torch.int32)
        axis = ", axis = 0 : i64"
    else:
        s = (w.abs().max() / qmax).float().reshape([])
        zp = torch.zeros([], dtype=torch.int32)
        axis = ""
    g, b, m, v = bn_params(cout, torch.float32, neg=neg)
    wq = fq_ref(w.float(), s, zp.float(), qmin, qmax,
                0 if per_channel else None).double()
    eps = 1e-5
    y_ref = bn_ref(F.conv2d(x, wq, None, 1, 1), g, b, m, v, eps)
    mlir = "func.func @f(%x: tensor<1x3x6x6xf32>) -> tensor<1x6x6x6xf32> {\n"
    mlir += constant("w", w) + constant("s", s) + constant("zp", zp)
    mlir += bn_consts(g, b, m, v)
    mlir += (f"  %wq = qfuse.fake_quant %w, %s, %zp {{quant_min = {qmin} : i64, "
             f"quant_max = {qmax} : i64{axis}}} : ({ttype(w)}, {ttype(s)}, "
             f"{ttype(zp)}) -> {ttype(w)}\n")
    mlir += ("  %c = qfuse.conv %x, %wq " + conv_attrs(2, 1, 1, 1, 1) +
             " : (tensor<1x3x6x6xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>\n")
    mlir += bn_ir("%c", cout, g, b, m, v, eps, "tensor<1x6x6x6xf32>")
    mlir += "  return %y : tensor<1x6x6x6xf32>\n}\n"
    run_check(name, mlir)
    out, err = opt(mlir, "--fold-bn", "--remarks-filter=fold-bn",
                   "--remark-format=emitRemark")
    folded = "qfuse.batch_norm" not in out
    chk.check(f"{name}: folded == {expect_fold}", folded == expect_fold,
              err.strip().splitlines()[0] if err.strip() else "")
    if not folded:
        chk.check(f"{name}: refusal explained by a remark", "[Missed]" in err)
        return
    cs = constants(out)
    fq = ops(out, "qfuse.fake_quant")[0]
    conv = ops(out, "qfuse.conv")[0]
    w2, s2, b2 = cs[fq[1][0]], cs[fq[1][1]], cs[conv[1][2]]
    kk = k_of(g, v, eps)
    bit_equal(f"{name}: W' == round(W*k)", w2, round_to(w.double() * kk[:, None, None, None], torch.float32))
    bit_equal(f"{name}: s' == round(s*|k|)", s2, round_to(s.double() * kk.abs(), torch.float32))
    wq2 = fq_ref(w2.float(), s2.float(), zp.float(), qmin, qmax, 0).double()
    e = rel_err(F.conv2d(x, wq2, b2, 1, 1), y_ref)
    chk.check(f"{name}: output matches PyTorch fq->conv->bn", e <= 1e-6,
              f"(rel err {e:.2e}, tol 1e-06)")


fq_case("fq symmetric, negative gamma", -127, 127, True, True)
fq_case("fq asymmetric range, positive gamma", -128, 127, False, True)
fq_case("fq asymmetric range, negative gamma (must not fold)", -128, 127, True, False)
fq_case("fq per-tensor, per-channel BN (must not fold)", -127, 127, False, False,
        per_channel=False)


#===----------------------------------------------------------------------===#
# Run-time fold: weights and statistics are function arguments
#===----------------------------------------------------------------------===#
def runtime_case(name, transposed, groups):
    cin, cout, k = 4, 6, 3
    x = torch.randn(1, cin, 5, 5)
    wshape = (cin, cout // groups, k, k) if transposed else (cout, cin // groups, k, k)
    w = torch.randn(*wshape) * 0.5
    b = torch.randn(cout) * 0.1
    g, beta, m, v = bn_params(cout, torch.float32)
    oshape = (1, cout, 7, 7) if transposed else (1, cout, 3, 3)
    op = "qfuse.conv_transpose" if transposed else "qfuse.conv"
    extra = ", output_padding = array<i64: 0, 0>" if transposed else ""
    ts = [ttype(t) for t in (x, w, b, m, v, g, beta)]
    out_t = ttype(torch.empty(oshape))
    mlir = (f"func.func @f(%x: {ts[0]}, %w: {ts[1]}, %bias: {ts[2]}, %m: {ts[3]}, "
            f"%v: {ts[4]}, %g: {ts[5]}, %b: {ts[6]}) -> {out_t} {{\n"
            f"  %c = {op} %x, %w, %bias {conv_attrs(2, 1, 0, 1, groups, extra)} : "
            f"({ts[0]}, {ts[1]}, {ts[2]}) -> {out_t}\n")
    mlir += bn_ir("%c", cout, g, beta, m, v, 1e-5, out_t)
    mlir += f"  return %y : {out_t}\n}}\n"
    out, _ = opt(mlir, "--fold-bn")
    chk.check(f"{name}: folded with linalg arithmetic",
              "qfuse.batch_norm" not in out and "linalg.generic" in out)
    run_check(name, mlir, inputs=[t.numpy() for t in (x, w, b, m, v, g, beta)])


runtime_case("run-time conv->bn", False, 2)
runtime_case("run-time conv_transpose groups=2 ->bn", True, 2)

sys.exit(chk.close())
