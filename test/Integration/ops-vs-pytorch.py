# Every lowered qfuse op, JIT-run by qfuse-run, against PyTorch computing the
# same thing at test time. Tolerances (relative to the largest |reference|):
#   f32 ops vs PyTorch in float64: 1e-5;  f64: 1e-12;
#   f16 weights/activations (f32 accumulation) vs float64 on the same f16
#   values: 2e-3; bf16: 1e-2;
#   fake_quant: exact (bit-equal) against the documented formula, and against
#   torch.fake_quantize_per_*_affine where the scale is a power of two (there
#   x·(1/s) == x/s, so the two definitions agree, ties included).
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np
import torch
import torch.nn.functional as F

from qfuse_testing import Checker, act_attrs, apply_act, arr, run_model

torch.manual_seed(7)
chk = Checker()
D = torch.float64
NP = {torch.float32: np.float32, torch.float64: np.float64,
      torch.float16: np.float16}
ELT = {torch.float32: "f32", torch.float64: "f64", torch.float16: "f16",
       torch.bfloat16: "bf16"}


def tt(shape, dtype):
    return "tensor<" + "".join(f"{d}x" for d in shape) + ELT[dtype] + ">"


def to_np(t):
    if t.dtype == torch.bfloat16:  # qfuse-run reads bf16 args from f32 files
        return t.float().numpy()
    return t.numpy()


def compare(name, got, ref, tol):
    ref = ref.detach().double().numpy()
    got = got.astype(np.float64)
    if got.shape != ref.shape:
        chk.check(name, False, f"shape {got.shape} vs {ref.shape}")
        return
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30)
    chk.check(name, err <= tol, f"(rel err {err:.2e}, tol {tol:.0e})")


TOL = {torch.float32: 1e-5, torch.float64: 1e-12, torch.float16: 2e-3,
       torch.bfloat16: 1e-2}


def conv_case(name, nd, n, cin, cout, k, size, stride, pads, dil, groups,
              bias=True, act=None, dtype=torch.float32):
    x = torch.randn(n, cin, *[size] * nd).to(dtype)
    w = (torch.randn(cout, cin // groups, *[k] * nd) * 0.5).to(dtype)
    b = (torch.randn(cout) * 0.1).to(dtype) if bias else None
    # PyTorch pads symmetrically; pad explicitly (begins, ends) first.
    fpad = []
    for i in reversed(range(nd)):
        fpad += [pads[i], pads[nd + i]]
    ref = F.conv_transpose1d if False else None
    convf = [None, F.conv1d, F.conv2d, F.conv3d][nd]
    ref = apply_act(convf(F.pad(x.to(D), fpad), w.to(D),
                          None if b is None else b.to(D), stride, 0, dil,
                          groups), act)
    sig = [tt(x.shape, dtype), tt(w.shape, dtype)] + ([tt(b.shape, dtype)] if bias else [])
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(sig))
    operands = ", ".join(f"%a{i}" for i in range(len(sig)))
    out_t = tt(ref.shape, dtype)
    mlir = (f"func.func @f({args}) -> {out_t} {{\n"
            f"  %0 = qfuse.conv {operands} {{strides = {arr([stride]*nd)}, "
            f"padding = {arr(pads)}, dilations = {arr([dil]*nd)}, groups = {groups} : i64"
            f"{act_attrs(act)}}} : ({', '.join(sig)}) -> {out_t}\n"
            f"  return %0 : {out_t}\n}}\n")
    ins = [to_np(x), to_np(w)] + ([to_np(b)] if bias else [])
    got, = run_model(mlir, ins)
    compare(f"conv {name}", got, ref, TOL[dtype])


conv_case("2d stride 2 asym pad relu", 2, 2, 3, 8, 3, 9, 2, [0, 1, 1, 2], 1, 1, act="relu")
conv_case("2d dilation 2", 2, 1, 4, 6, 3, 10, 1, [2, 2, 2, 2], 2, 1)
conv_case("2d groups 2 relu6", 2, 1, 4, 6, 3, 8, 1, [1, 1, 1, 1], 1, 2, act="relu6")
conv_case("2d depthwise stride 2", 2, 1, 6, 6, 3, 8, 2, [1, 1, 1, 1], 1, 6, bias=False)
conv_case("1d", 1, 2, 3, 5, 5, 16, 3, [2, 1], 1, 1)
conv_case("3d groups 2", 3, 1, 4, 4, 3, 6, 1, [1, 1, 1, 1, 1, 1], 1, 2)
conv_case("2d 7x7/2 (resnet conv1)", 2, 1, 3, 8, 7, 20, 2, [3, 3, 3, 3], 1, 1)
conv_case("2d f64", 2, 1, 3, 4, 3, 6, 1, [1, 1, 1, 1], 1, 1, dtype=torch.float64)
conv_case("2d f16 (f32 accumulation)", 2, 1, 8, 4, 3, 6, 1, [1, 1, 1, 1], 1, 1, dtype=torch.float16)
conv_case("2d bf16 (f32 accumulation)", 2, 1, 8, 4, 3, 6, 1, [1, 1, 1, 1], 1, 1, dtype=torch.bfloat16)


def convt_case(name, nd, cin, cout, k, size, stride, pad, opad, dil, groups,
               bias=True, act=None):
    x = torch.randn(1, cin, *[size] * nd)
    w = torch.randn(cin, cout // groups, *[k] * nd) * 0.5
    b = torch.randn(cout) * 0.1 if bias else None
    convf = [None, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][nd]
    ref = apply_act(convf(x.double(), w.double(), None if b is None else b.double(),
                          stride, pad, opad, groups, dil), act)
    sig = [tt(x.shape, torch.float32), tt(w.shape, torch.float32)] + \
        ([tt(b.shape, torch.float32)] if bias else [])
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(sig))
    operands = ", ".join(f"%a{i}" for i in range(len(sig)))
    out_t = tt(ref.shape, torch.float32)
    mlir = (f"func.func @f({args}) -> {out_t} {{\n"
            f"  %0 = qfuse.conv_transpose {operands} {{strides = {arr([stride]*nd)}, "
            f"padding = {arr([pad]*2*nd)}, dilations = {arr([dil]*nd)}, "
            f"output_padding = {arr([opad]*nd)}, groups = {groups} : i64"
            f"{act_attrs(act)}}} : ({', '.join(sig)}) -> {out_t}\n"
            f"  return %0 : {out_t}\n}}\n")
    got, = run_model(mlir, [x.numpy(), w.numpy()] + ([b.numpy()] if bias else []))
    compare(f"conv_transpose {name}", got, ref, 1e-5)


convt_case("2d stride 2 output_padding 1", 2, 4, 6, 3, 5, 2, 1, 1, 1, 1)
convt_case("2d groups 2 relu", 2, 4, 6, 3, 5, 2, 1, 1, 1, 2, act="relu")
convt_case("2d dilation 2", 2, 3, 2, 3, 4, 1, 0, 0, 2, 1)
convt_case("2d pad > dilation*(k-1) (crop)", 2, 2, 3, 3, 5, 2, 3, 0, 1, 1)
convt_case("1d stride 3 groups 3", 1, 6, 3, 4, 7, 3, 1, 2, 1, 3)
convt_case("3d stride 2", 3, 2, 2, 2, 3, 2, 0, 0, 1, 1, bias=False)


# linear
x, w, b = torch.randn(5, 12), torch.randn(7, 12) * 0.3, torch.randn(7) * 0.1
mlir = ("func.func @f(%x: tensor<5x12xf32>, %w: tensor<7x12xf32>, %b: tensor<7xf32>) -> tensor<5x7xf32> {\n"
        "  %0 = qfuse.linear %x, %w, %b {activation = #qfuse.activation<relu>} : "
        "(tensor<5x12xf32>, tensor<7x12xf32>, tensor<7xf32>) -> tensor<5x7xf32>\n"
        "  return %0 : tensor<5x7xf32>\n}\n")
got, = run_model(mlir, [x.numpy(), w.numpy(), b.numpy()])
compare("linear + relu", got, torch.relu(F.linear(x.double(), w.double(), b.double())), 1e-5)


def bn_case(name, shape, affine, eps):
    c = shape[1]
    x = torch.randn(*shape)
    m, v = torch.randn(c) * 0.5, torch.rand(c) + 0.1
    g, b = (torch.randn(c), torch.randn(c)) if affine else (None, None)
    ref = F.batch_norm(x.double(), m.double(), v.double(),
                       None if g is None else g.double(),
                       None if b is None else b.double(), False, 0.0, eps)
    xt, ct = tt(shape, torch.float32), f"tensor<{c}xf32>"
    extra = f" scale(%g) offset(%b)" if affine else ""
    sig = f"%x: {xt}, %m: {ct}, %v: {ct}" + (f", %g: {ct}, %b: {ct}" if affine else "")
    types = f"{xt}, {ct}, {ct}" + (f", {ct}, {ct}" if affine else "")
    mlir = (f"func.func @f({sig}) -> {xt} {{\n"
            f"  %0 = qfuse.batch_norm %x, %m, %v{extra} {{epsilon = {eps:.17e} : f64}} : {types}\n"
            f"  return %0 : {xt}\n}}\n")
    ins = [x.numpy(), m.numpy(), v.numpy()] + ([g.numpy(), b.numpy()] if affine else [])
    got, = run_model(mlir, ins)
    compare(f"batch_norm {name}", got, ref, 1e-5)


bn_case("4d affine eps 1e-3", (2, 5, 4, 4), True, 1e-3)
bn_case("2d affine=False", (6, 3), False, 1e-5)
bn_case("5d", (1, 2, 3, 3, 3), True, 1e-5)

# relu / clamp, NaN propagates as in PyTorch
x = torch.randn(3, 8) * 4
x[0, 0] = float("nan")
mlir = ("func.func @f(%x: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {\n"
        "  %0 = qfuse.relu %x : tensor<3x8xf32>\n"
        "  %1 = qfuse.clamp %x {min = -1.5 : f64, max = 2.0 : f64} : tensor<3x8xf32>\n"
        "  return %0, %1 : tensor<3x8xf32>, tensor<3x8xf32>\n}\n")
r, c = run_model(mlir, [x.numpy()])
chk.check("relu bit-equal to torch.relu (NaN kept)",
          np.array_equal(r, torch.relu(x).numpy(), equal_nan=True))
chk.check("clamp bit-equal to torch.clamp (NaN kept)",
          np.array_equal(c, torch.clamp(x, -1.5, 2.0).numpy(), equal_nan=True))


# fake_quant at exact ties
def fq_formula(x, s, zp, qmin, qmax):
    """The documented semantics in float32: divide, round half to even."""
    q = np.rint((x / s).astype(np.float32)) + zp
    return ((np.clip(q, qmin, qmax) - zp) * s).astype(np.float32)


s = np.float32(0.25)
ties = (np.arange(-40, 40, dtype=np.float32) + 0.5) * s  # every x/s is a tie
x = np.concatenate([ties, np.random.RandomState(0).randn(48).astype(np.float32) * 5])
x = x.reshape(8, 16)
mlir = ("func.func @f(%x: tensor<8x16xf32>, %s: tensor<f32>, %z: tensor<i32>) -> tensor<8x16xf32> {\n"
        "  %0 = qfuse.fake_quant %x, %s, %z {quant_min = -10 : i64, quant_max = 20 : i64} : "
        "(tensor<8x16xf32>, tensor<f32>, tensor<i32>) -> tensor<8x16xf32>\n"
        "  return %0 : tensor<8x16xf32>\n}\n")
got, = run_model(mlir, [x, np.array(s), np.array(3, dtype=np.int32)])
ref_t = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), float(s), 3, -10, 20).numpy()
chk.check("fake_quant per-tensor at ties == formula (bit-equal)",
          np.array_equal(got, fq_formula(x, s, 3, -10, 20)))
chk.check("fake_quant per-tensor at ties == torch.fake_quantize_per_tensor_affine",
          np.array_equal(got, ref_t))

# per-channel along axis 1, power-of-two scales (ties exact), zero points
sc = np.array([0.5, 0.125, 0.25, 1.0], dtype=np.float32)
zc = np.array([0, -3, 5, 1], dtype=np.int32)
xc = ((np.random.RandomState(1).randint(-60, 60, size=(2, 4, 3, 5)) + 0.5)
      * sc[None, :, None, None]).astype(np.float32)
mlir = ("func.func @f(%x: tensor<2x4x3x5xf32>, %s: tensor<4xf32>, %z: tensor<4xi32>) -> tensor<2x4x3x5xf32> {\n"
        "  %0 = qfuse.fake_quant %x, %s, %z {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : "
        "(tensor<2x4x3x5xf32>, tensor<4xf32>, tensor<4xi32>) -> tensor<2x4x3x5xf32>\n"
        "  return %0 : tensor<2x4x3x5xf32>\n}\n")
got, = run_model(mlir, [xc, sc, zc])
ref_c = torch.fake_quantize_per_channel_affine(
    torch.from_numpy(xc), torch.from_numpy(sc), torch.from_numpy(zc), 1, -128, 127).numpy()
chk.check("fake_quant per-channel at ties == torch.fake_quantize_per_channel_affine",
          np.array_equal(got, ref_c))
chk.check("fake_quant per-channel at ties == formula (bit-equal)",
          np.array_equal(got, fq_formula(xc, sc[None, :, None, None],
                                         zc[None, :, None, None], -128, 127)))

# non-power-of-two scale: qfuse divides (ONNX); compare with the formula
s3 = np.float32(0.1)
x3 = np.random.RandomState(2).randn(4, 8).astype(np.float32)
mlir = mlir_pt = ("func.func @f(%x: tensor<4x8xf32>, %s: tensor<1xf32>, %z: tensor<1xi32>) -> tensor<4x8xf32> {\n"
                  "  %0 = qfuse.fake_quant %x, %s, %z {quant_min = -128 : i64, quant_max = 127 : i64} : "
                  "(tensor<4x8xf32>, tensor<1xf32>, tensor<1xi32>) -> tensor<4x8xf32>\n"
                  "  return %0 : tensor<4x8xf32>\n}\n")
got, = run_model(mlir, [x3, np.array([s3]), np.array([0], dtype=np.int32)])
chk.check("fake_quant scale 0.1 == formula x/s (bit-equal)",
          np.array_equal(got, fq_formula(x3, s3, 0, -128, 127)))

sys.exit(chk.close())
