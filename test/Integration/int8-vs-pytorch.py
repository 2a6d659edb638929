# The integer deploy path on data.
#
# 1. qfuse.qconv / qfuse.qlinear JIT-run against a reference built from
#    PyTorch's f64 convolution on the centred integers (exact: every partial
#    sum is an integer below 2^53) and the documented requantize (f64
#    multiplier, round half to even, activation clamp in the integer domain):
#    the outputs must be equal, element for element, through the integer
#    vector kernel (the cases that take it say so in their remark), through
#    the kernel a VNNI machine would get (the quads form, its dot_quads
#    lowered to portable ops so that it runs here) and through the generic
#    lowering (vectorize=false).
# 2. --quantize against the fake-quant graph it came from (at most one
#    quantization step apart) and against torch.ao's quantized ConvReLU2d and
#    LinearReLU on the same integer input: equal except where the two
#    requantize roundings disagree, i.e. where the exact value lies within 1%
#    of a step from a half-way point. Engines: qnnpack (per-tensor weights),
#    and oneDNN with 7-bit activations (reduce_range). oneDNN with full-range
#    uint8 activations is printed as a NOTE, not checked: on this AVX2 machine
#    without VNNI its u8 x s8 pair sums saturate at 16 bits (vpmaddubsw), so
#    it is off by many steps; qfuse's int32 accumulation is exact.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[1-9][0-9]*}} passed, 0 failed

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from qfuse_testing import Checker, arr, constant, run_model, opt

torch.manual_seed(0)
rng = np.random.default_rng(0)
checker = Checker()


def ttype(shape, elt):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def scalar_f32(name, v):
    return constant(name, torch.tensor(float(np.float32(v)), dtype=torch.float32))


def i32(name, values):
    values = np.atleast_1d(np.asarray(values, dtype=np.int64))
    if values.size == 1:
        return f"  %{name} = arith.constant dense<{int(values[0])}> : tensor<i32>\n"
    body = ", ".join(str(int(v)) for v in values)
    return f"  %{name} = arith.constant dense<[{body}]> : tensor<{values.size}xi32>\n"


def i32_type(values):
    return "tensor<i32>" if np.size(values) == 1 else f"tensor<{np.size(values)}xi32>"


def reference(x, w, bias, zx, zw, case):
    """acc (f64, exact) and, with requantize, the integer result."""
    s = w.dim() - 2
    xc = x.to(torch.float64) - zx
    zw_t = torch.as_tensor(np.asarray(zw, dtype=np.float64)).reshape(
        [-1] + [1] * (w.dim() - 1))
    wc = w.to(torch.float64) - zw_t
    if case.get("linear"):
        acc = xc @ wc.t()
    else:
        pad = case["pad"]  # all begins, then all ends
        torch_pad = []
        for i in reversed(range(s)):
            torch_pad += [pad[i], pad[i + s]]
        xc = F.pad(xc, torch_pad)  # centred: padding reads the zero point
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[s]
        acc = conv(xc, wc, stride=case["stride"], dilation=case["dil"],
                   groups=case["groups"])
    if bias is not None:
        acc = acc + bias.to(torch.float64).reshape([1, -1] + [1] * (acc.dim() - 2))
    if "sy" not in case:
        return acc, None
    sw = np.atleast_1d(np.asarray(case["sw"], dtype=np.float32)).astype(np.float64)
    m = np.float64(np.float32(case["sx"])) * sw / np.float64(np.float32(case["sy"]))
    m = torch.from_numpy(m).reshape([1, -1] + [1] * (acc.dim() - 2))
    zy = case["zy"]
    lo, hi = case["qmin"], case["qmax"]
    act = case.get("act")
    if act == "relu":
        lo = max(lo, zy)
    elif act == "relu6":
        sy = np.float32(case["sy"])
        lo = max(lo, zy + np.rint(np.float32(0.0) / sy))
        hi = min(hi, zy + np.rint(np.float32(6.0) / sy))
    v = torch.round(acc * m) + zy  # torch.round: half to even
    return acc, v.clamp(lo, hi)


def qcontraction_mlir(x_shape, w, bias, case):
    """A function taking the 8-bit input, returning the qconv/qlinear result."""
    out_elt = "i8" if "sy" in case else "i32"
    in_u8, w_u8, out_u8 = case["x_u8"], case.get("w_u8", False), case.get("y_u8", False)
    x_t = ttype(x_shape, "i8")
    w_t = ttype(w.shape, "i8")
    w_raw = torch.from_numpy(w.numpy().astype(np.int64).astype(np.uint8).view(np.int8)
                             if w_u8 else w.numpy().astype(np.int8))
    body = constant("w", w_raw)
    operands = ["%x", "%w"]
    types = [x_t, w_t]
    text = ""
    if bias is not None:
        body += constant("b", bias.to(torch.int32))
        text += " bias(%b)"
        types.append(f"tensor<{bias.numel()}xi32>")
    body += i32("zx", case["zx"]) + i32("zw", case["zw"])
    text += " zero_points(%zx, %zw)"
    types += [i32_type(case["zx"]), i32_type(case["zw"])]
    attrs = []
    if in_u8:
        attrs.append("input_uint8")
    if w_u8:
        attrs.append("weight_uint8")
    if "sy" in case:
        sw = np.atleast_1d(np.asarray(case["sw"], dtype=np.float32))
        body += scalar_f32("sx", case["sx"]) + scalar_f32("sy", case["sy"])
        body += constant("sw", torch.from_numpy(sw))
        body += i32("zy", case["zy"])
        text += " requantize(%sx, %sw, %sy, %zy)"
        types += ["tensor<f32>", f"tensor<{sw.size}xf32>", "tensor<f32>", "tensor<i32>"]
        attrs += [f"quant_min = {case['qmin']} : i64", f"quant_max = {case['qmax']} : i64"]
        if out_u8:
            attrs.append("output_uint8")
        act = case.get("act")
        if act == "relu":
            attrs.append("activation = #qfuse.activation<relu>")
        elif act == "relu6":
            attrs.append("activation = #qfuse.activation<clamp>, clamp_min = 0.0 : f64, clamp_max = 6.0 : f64")
    if case.get("linear"):
        op = "qfuse.qlinear"
        out_shape = [x_shape[0], w.shape[0]]
    else:
        op = "qfuse.qconv"
        s = len(case["stride"])
        attrs += [f"strides = {arr(case['stride'])}", f"padding = {arr(case['pad'])}",
                  f"dilations = {arr(case['dil'])}", f"groups = {case['groups']} : i64"]
        out_shape = case["out_shape"]
    res_t = ttype(out_shape, out_elt)
    attrs_x = ["qfuse.uint8"] if in_u8 else []
    if "x_range" in case:
        attrs_x.append(f"qfuse.value_range = {arr(case['x_range'])}")
    x_attr = " {" + ", ".join(attrs_x) + "}" if attrs_x else ""
    r_attr = " {qfuse.uint8}" if out_u8 and "sy" in case else ""
    return (f"func.func @f(%x: {x_t}{x_attr}) -> ({res_t}{r_attr}) {{\n{body}"
            f"  %y = {op} %x, %w{text} {{{', '.join(attrs)}}} : "
            f"({', '.join(types)}) -> {res_t}\n  return %y : {res_t}\n}}\n")


def int_tensor(shape, lo, hi, extreme=False):
    if extreme:  # every value at an end of its range
        return torch.from_numpy(rng.choice([lo, hi], size=shape).astype(np.int64))
    return torch.from_numpy(rng.integers(lo, hi + 1, size=shape).astype(np.int64))


def direct_case(name, case):
    xs, ws = case["x_shape"], case["w_shape"]
    ext = case.get("extreme", False)
    lo, hi = case.get("x_range", (0, 255) if case["x_u8"] else (-128, 127))
    x = int_tensor(xs, lo, hi, ext)
    w = int_tensor(ws, 0, 255, ext) if case.get("w_u8") else int_tensor(ws, -128, 127, ext)
    bias = int_tensor([ws[0]], -5000, 5000) if case.get("bias") else None
    acc, q = reference(x, w, bias, case["zx"], case["zw"], case)
    if not case.get("linear"):
        case["out_shape"] = list(acc.shape)
    mlir = qcontraction_mlir(xs, w, bias, case)
    x_np = x.numpy().astype(np.uint8 if case["x_u8"] else np.int8)
    expected = (q if q is not None else acc).numpy()
    want_dtype = (np.uint8 if case.get("y_u8") else np.int8) if q is not None else np.int32
    _, remarks = opt(mlir, "--convert-qfuse-to-vector", "--remarks-filter=vectorize",
                     "--remark-format=emitRemark")
    kernel = "[Passed] ConvToVector" in remarks and "integer" in remarks
    checker.check(f"{name}: {'takes' if case.get('vector') else 'leaves'} the integer vector kernel",
                  kernel == bool(case.get("vector")))
    if "form" in case:
        checker.check(f"{name}: the {case['form']} form on this machine", case["form"] in remarks)
    if "rows" in case:  # row tiles that skip the padding taps, or not
        checker.check(f"{name}: {'takes' if case['rows'] else 'leaves'} the row tiles",
                      ("row tiles" in remarks) == case["rows"])
    runs = [("vector" if kernel else "default", []),
            ("generic", ["--lowering=vectorize=false"])]
    if kernel:  # the portable dot lowering, as on a host without AVX2
        runs.append(("vector, portable dot_pairs", ["--lowering=integer-isa=generic"]))
        # The kernel a VNNI machine gets (quads where the weights fit int8),
        # its dot_quads lowered to portable ops so that it runs here.
        runs.append(("vector for avxvnni, portable dot_quads",
                     ["--lowering=integer-isa=avxvnni integer-portable=true"]))
        if xs[0] > 1 and case.get("groups", 1) != xs[1]:
            # Each image prepared (pairs or quads, padding) and convolved
            # in turn, as for a batch too large to prepare at once.
            runs.append(("vector, one image at a time",
                         ["--lowering=batch-prepare-bytes=0"]))
    for label, extra in runs:
        (got,) = run_model(mlir, [x_np], extra)
        same = got.dtype == want_dtype and np.array_equal(got.astype(np.int64),
                                                          expected.astype(np.int64))
        diff = np.abs(got.astype(np.int64) - expected.astype(np.int64)).max()
        checker.check(f"{name} [{label} lowering]: equals the reference", same,
                      f"(dtype {got.dtype}, max diff {diff}, {got.size} values)")


# Per-channel scales and weight zero points, uint8 and int8 on each side.
direct_case("u8 x, s8 w, 3x3 pad 1, bias, relu, u8 out", dict(
    vector=True, x_shape=[2, 8, 9, 9], w_shape=[16, 8, 3, 3], x_u8=True, zx=131, zw=0,
    bias=True, stride=[1, 1], pad=[1, 1, 1, 1], dil=[1, 1], groups=1,
    sx=0.021, sw=rng.uniform(0.002, 0.01, 16), sy=0.09, zy=3, qmin=0, qmax=255,
    y_u8=True, act="relu"))
direct_case("s8 x, u8 w with per-channel zero points, stride 2, dilation 2, groups 2, asymmetric pad, relu6, s8 out [-127,127]", dict(
    x_shape=[1, 6, 13, 11], w_shape=[8, 3, 3, 3], x_u8=False, zx=-7,
    w_u8=True, zw=rng.integers(100, 150, 8), bias=True, stride=[2, 2],
    pad=[1, 0, 2, 1], dil=[2, 2], groups=2, sx=0.05, sw=rng.uniform(0.001, 0.004, 8),
    sy=0.04, zy=-20, qmin=-127, qmax=127, act="relu6"))
direct_case("depthwise 3x3 stride 2, per-tensor weight scale", dict(
    vector=True, x_shape=[1, 12, 10, 10], w_shape=[12, 1, 3, 3], x_u8=True, zx=128, zw=0,
    bias=True, stride=[2, 2], pad=[1, 1, 1, 1], dil=[1, 1], groups=12,
    sx=0.03, sw=[0.01], sy=0.02, zy=128, qmin=0, qmax=255, y_u8=True))
direct_case("depthwise 5x5 dilation 2, u8 weights with per-channel zero points, int8 out, relu6", dict(
    vector=True, x_shape=[2, 16, 19, 17], w_shape=[16, 1, 5, 5], x_u8=False, zx=3,
    w_u8=True, zw=rng.integers(0, 255, 16), bias=True, stride=[1, 1],
    pad=[4, 2, 3, 4], dil=[2, 2], groups=16, sx=0.04, sw=rng.uniform(0.001, 0.003, 16),
    sy=0.05, zy=-10, qmin=-128, qmax=127, act="relu6"))
# Rows wide enough for the depthwise kernel's loop over interior chunks
# (32 outputs each) between the static edge chunks and a ragged tail; the
# centred uint8 plane is read in place, its padding the zero point.
direct_case("depthwise 3x3 stride 2, 150-wide rows (75 outputs), zero point 77", dict(
    vector=True, x_shape=[1, 4, 7, 150], w_shape=[4, 1, 3, 3], x_u8=True, zx=77, zw=0,
    bias=True, stride=[2, 2], pad=[1, 1, 1, 1], dil=[1, 1], groups=4,
    sx=0.03, sw=rng.uniform(0.002, 0.01, 4), sy=0.05, zy=100, qmin=0, qmax=255,
    y_u8=True, act="relu"))
direct_case("depthwise 3x3 stride 1, 70-wide rows, asymmetric pad, s8 in", dict(
    vector=True, x_shape=[1, 3, 6, 70], w_shape=[3, 1, 3, 3], x_u8=False, zx=-5, zw=0,
    bias=False, stride=[1, 1], pad=[0, 2, 1, 0], dil=[1, 1], groups=3,
    sx=0.03, sw=[0.01], sy=0.04, zy=0, qmin=-128, qmax=127))
# The vector kernel's shapes: 24 channels (3 vectors), pixel remainders,
# stride, dilation, groups, uint8 weights with per-channel zero points, the
# clamp activation, extreme inputs (every x and w at a range end), no bias.
direct_case("kernel: 24 channels, stride 2, dilation 2, u8 weights with per-channel zero points, relu6", dict(
    vector=True, x_shape=[1, 6, 15, 13], w_shape=[24, 6, 3, 3], x_u8=False, zx=-9,
    w_u8=True, zw=rng.integers(0, 255, 24), bias=True, stride=[2, 2], pad=[2, 1, 0, 2],
    dil=[2, 2], groups=1, sx=0.05, sw=rng.uniform(0.0005, 0.002, 24), sy=0.08,
    zy=-30, qmin=-128, qmax=127, act="relu6"))
direct_case("kernel: groups 2 (8 output channels each), 1x1, int32 accumulator", dict(
    vector=True, x_shape=[2, 4, 7, 5], w_shape=[16, 2, 1, 1], x_u8=True, zx=255, zw=0,
    stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=2))
direct_case("kernel: 1-D, 5 taps, per-tensor scale, no bias", dict(
    vector=True, x_shape=[3, 10, 29], w_shape=[8, 10, 5], x_u8=True, zx=0, zw=0,
    stride=[1], pad=[2, 2], dil=[1], groups=1, sx=0.1, sw=[0.003], sy=0.5, zy=0,
    qmin=0, qmax=255, y_u8=True))
direct_case("kernel: 3-D, int8 out with relu", dict(
    vector=True, x_shape=[1, 4, 4, 5, 6], w_shape=[8, 4, 2, 3, 3], x_u8=False, zx=0,
    zw=0, bias=True, stride=[1, 1, 2], pad=[1, 1, 1, 0, 1, 1], dil=[1, 1, 1],
    groups=1, sx=0.02, sw=rng.uniform(0.001, 0.01, 8), sy=0.1, zy=5, qmin=-128,
    qmax=127, act="relu"))
direct_case("kernel: 3 input channels (padded to a pair), 7x7 stride 2 pad 3, like ResNet's conv1, row tiles with the pixels outermost", dict(
    vector=True, rows=True, x_shape=[2, 3, 20, 18], w_shape=[16, 3, 7, 7], x_u8=True, zx=120, zw=0,
    bias=True, stride=[2, 2], pad=[3, 3, 3, 3], dil=[1, 1], groups=1, sx=0.02,
    sw=rng.uniform(0.001, 0.004, 16), sy=0.1, zy=0, qmin=0, qmax=255, y_u8=True,
    act="relu"))
# 7-bit inputs (a qfuse.value_range argument, as a reduce_range producer
# guarantees): every vpmaddubsw pair sum fits int16, so AVX2 takes the quads
# form with full-range int8 weights, extreme values included.
direct_case("kernel: 7-bit uint8 input, quads through vpmaddubsw, extreme values, row tiles (zero point 0)", dict(
    vector=True, form="quads", rows=True, extreme=True, x_range=(0, 127), x_shape=[1, 32, 7, 7],
    w_shape=[16, 32, 3, 3], x_u8=True, zx=0, zw=0, bias=True, stride=[1, 1],
    pad=[1, 1, 1, 1], dil=[1, 1], groups=1, sx=0.02, sw=rng.uniform(0.0005, 0.001, 16),
    sy=0.5, zy=0, qmin=0, qmax=255, y_u8=True, act="relu"))
direct_case("kernel: 7-bit input with zero point 64, 5 channels (padded to a quad), stride 2", dict(
    vector=True, form="quads", x_range=(0, 127), x_shape=[2, 5, 11, 9], w_shape=[8, 5, 3, 3],
    x_u8=True, zx=64, zw=0, bias=True, stride=[2, 2], pad=[1, 0, 1, 2], dil=[1, 1],
    groups=1, sx=0.02, sw=rng.uniform(0.001, 0.004, 8), sy=0.05, zy=10, qmin=0, qmax=255,
    y_u8=True))
# Row tiles skip the padding only where it adds nothing: quads padded with
# a nonzero shifted zero point keep every tap (the compensation covers them
# all); centred pairs are padded with 0, so they skip, here with stride 2,
# dilation 2, asymmetric padding and 3 pixels per row beyond the kernel's
# reach.
direct_case("kernel: 7-bit input with zero point 64, 7x7, quads keep the padding taps", dict(
    vector=True, form="quads", rows=False, x_range=(0, 127), x_shape=[1, 32, 7, 7],
    w_shape=[16, 32, 3, 3], x_u8=True, zx=64, zw=0, bias=True, stride=[1, 1],
    pad=[1, 1, 1, 1], dil=[1, 1], groups=1, sx=0.02, sw=rng.uniform(0.0005, 0.001, 16),
    sy=0.3, zy=0, qmin=0, qmax=255, y_u8=True, act="relu"))
direct_case("kernel: int8 input, pairs, stride 2, dilation 2, asymmetric padding beyond the reach, row tiles", dict(
    vector=True, form="pairs", rows=True, x_shape=[2, 16, 9, 11], w_shape=[32, 16, 3, 3],
    x_u8=False, zx=-9, zw=0, bias=True, stride=[2, 2], pad=[2, 5, 0, 2], dil=[2, 2],
    groups=1, sx=0.05, sw=rng.uniform(0.0005, 0.002, 32), sy=0.4, zy=-30, qmin=-128,
    qmax=127, act="relu6"))
direct_case("kernel: u8 input, pairs, 40-wide rows: interior row tiles in a loop", dict(
    vector=True, form="pairs", rows=True, x_shape=[1, 16, 5, 40], w_shape=[64, 16, 3, 3],
    x_u8=True, zx=131, zw=0, bias=True, stride=[1, 1], pad=[1, 1, 1, 1], dil=[1, 1],
    groups=1, sx=0.02, sw=rng.uniform(0.0005, 0.002, 64), sy=0.3, zy=5, qmin=0,
    qmax=255, y_u8=True, act="relu"))
# 1x1, stride 1, no padding in the quads form: the pointwise kernel (the
# vectors along the pixels, each channel's weight quad broadcast).
direct_case("kernel: 7-bit input, 1x1 pointwise quads 24 -> 48, 63 pixels (a ragged vector)", dict(
    vector=True, form="integer pointwise vector kernel", extreme=True, x_range=(0, 127),
    x_shape=[2, 24, 7, 9], w_shape=[48, 24, 1, 1], x_u8=True, zx=3, zw=0, bias=True,
    stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=1, sx=0.02,
    sw=rng.uniform(0.0005, 0.002, 48), sy=0.3, zy=5, qmin=0, qmax=255, y_u8=True,
    act="relu"))
direct_case("kernel: 7-bit input, 1x1 pointwise quads, groups 2, int32 accumulator", dict(
    vector=True, form="integer pointwise vector kernel", x_range=(0, 127),
    x_shape=[1, 16, 5, 5], w_shape=[16, 8, 1, 1], x_u8=True, zx=0, zw=0, bias=True,
    stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=2))
direct_case("kernel: full-range uint8 input, 1x1 pointwise pairs, u8 weights with per-channel zero points, 35 pixels", dict(
    vector=True, form="integer pointwise vector kernel", extreme=True, x_shape=[2, 32, 5, 7],
    w_shape=[16, 32, 1, 1], x_u8=True, zx=131, w_u8=True, zw=rng.integers(100, 150, 16),
    bias=True, stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=1, sx=0.02,
    sw=rng.uniform(0.0005, 0.002, 16), sy=0.3, zy=5, qmin=0, qmax=255, y_u8=True,
    act="relu"))
direct_case("kernel: int8 input in [-128, -1] (7-bit once shifted), 1x1 pointwise quads, 5 channels (padded to a quad)", dict(
    vector=True, form="integer pointwise vector kernel", x_range=(-128, -1),
    x_shape=[1, 5, 6, 6], w_shape=[8, 5, 1, 1], x_u8=False, zx=-100, zw=0, bias=True,
    stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=1, sx=0.02,
    sw=rng.uniform(0.001, 0.004, 8), sy=0.05, zy=-20, qmin=-128, qmax=127))
direct_case("kernel: int8 input (the +128 shift) and uint8 weights at zero point 128, groups 2", dict(
    vector=True, x_shape=[1, 16, 8, 8], w_shape=[16, 8, 3, 3], x_u8=False, zx=-5,
    w_u8=True, zw=128, bias=True, stride=[1, 1], pad=[1, 1, 1, 1], dil=[1, 1], groups=2,
    sx=0.03, sw=rng.uniform(0.001, 0.003, 16), sy=0.2, zy=0, qmin=-128, qmax=127))
direct_case("kernel: extreme values (x at 0/255 - zx 0, w at -128/127), int32 accumulator", dict(
    vector=True, extreme=True, x_shape=[1, 64, 6, 6], w_shape=[8, 64, 3, 3], x_u8=True,
    zx=0, zw=0, stride=[1, 1], pad=[1, 1, 1, 1], dil=[1, 1], groups=1))
direct_case("kernel: extreme values, s8 x with zero point -128, u8 w with zero point 255", dict(
    vector=True, extreme=True, x_shape=[1, 16, 5, 5], w_shape=[8, 16, 3, 3], x_u8=False,
    zx=-128, w_u8=True, zw=255, stride=[1, 1], pad=[0, 0, 0, 0], dil=[1, 1], groups=1))
direct_case("1-D conv, int32 accumulator (ConvInteger form)", dict(
    x_shape=[2, 4, 17], w_shape=[6, 4, 5], x_u8=True, zx=17, zw=0,
    stride=[3], pad=[2, 1], dil=[1], groups=1))
direct_case("3-D conv, u8 weight zero point, int32 accumulator with bias", dict(
    x_shape=[1, 3, 5, 6, 7], w_shape=[4, 3, 2, 3, 2], x_u8=False, zx=5,
    w_u8=True, zw=128, bias=True, stride=[1, 2, 1], pad=[0, 1, 1, 1, 0, 0],
    dil=[1, 1, 2], groups=1))
direct_case("qlinear s8, per-channel, s8 out", dict(
    x_shape=[5, 40], w_shape=[12, 40], x_u8=False, zx=3, zw=0, bias=True,
    linear=True, sx=0.1, sw=rng.uniform(0.001, 0.01, 12), sy=0.3, zy=-4,
    qmin=-128, qmax=127))
direct_case("qlinear u8 x u8 w, int32 accumulator (MatMulInteger form)", dict(
    x_shape=[4, 33], w_shape=[7, 33], x_u8=True, zx=99, w_u8=True,
    zw=rng.integers(0, 255, 7), linear=True))


#===-------------------------------------------------------------------------===#
# --quantize against the fake-quant graph and torch.ao
#===-------------------------------------------------------------------------===#

import warnings

import torch.ao.quantization as tq

warnings.filterwarnings("ignore", message="Please use quant_min")


def qconfig_for(engine, seven_bit):
    if not seven_bit:
        return tq.get_default_qconfig(engine)
    return tq.QConfig(
        activation=tq.HistogramObserver.with_args(reduce_range=True),
        weight=tq.default_per_channel_weight_observer)


def near_tie(v):
    """|frac(v) - 0.5| < 0.01: where f32 and f64 requantize may round apart."""
    frac = v - np.floor(v)
    return np.abs(frac - 0.5) < 0.01


def torch_ao_case(name, linear, engine, seven_bit=False, note_only=False):
    torch.backends.quantized.engine = engine
    name = f"{name} [{engine}{', 7-bit activations' if seven_bit else ''}]"
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant = tq.QuantStub()
            if linear:  # torch 1.13 fuses Linear+ReLU, not Linear+BN1d
                self.op = nn.Linear(48, 24)
                self.bn = nn.Identity()
            else:
                self.op = nn.Conv2d(8, 16, 3, padding=1, stride=1)
                self.bn = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()
            self.dequant = tq.DeQuantStub()

        def forward(self, x):
            return self.dequant(self.relu(self.bn(self.op(self.quant(x)))))

    m = M()
    if not linear:
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
        m.bn.weight.data.uniform_(0.5, 1.5)
    m.eval()
    m.qconfig = qconfig_for(engine, seven_bit)
    tq.fuse_modules(m, [["op", "relu"] if linear else ["op", "bn", "relu"]],
                    inplace=True)
    tq.prepare(m, inplace=True)
    shape = [4, 48] if linear else [2, 8, 12, 12]
    for _ in range(4):
        m(torch.randn(shape))
    tq.convert(m, inplace=True)

    x = torch.randn(shape)
    xq = m.quant(x)
    yq = m.op(xq)
    w = m.op.weight()
    w_int = w.int_repr()
    if w.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        sw = torch.full([w_int.shape[0]], w.q_scale(), dtype=torch.float32)
        zw = torch.full([w_int.shape[0]], w.q_zero_point(), dtype=torch.int64)
    else:
        sw = w.q_per_channel_scales().to(torch.float32)
        zw = w.q_per_channel_zero_points()
    bias = m.op.bias().detach().to(torch.float32)
    sx, zx = np.float32(xq.q_scale()), int(xq.q_zero_point())
    sy, zy = np.float32(m.op.scale), int(m.op.zero_point)
    cout = w_int.shape[0]

    # The PTQ graph as qfuse sees it: the u8 input dequantized, the int8
    # weight dequantized per channel, a float conv/linear + bias + relu and
    # the output quantized to uint8.
    x_t = ttype(shape, "i8")
    out_shape = list(yq.shape)
    f_t = ttype(shape, "f32")
    wf_t = ttype(list(w_int.shape), "f32")
    yf_t = ttype(out_shape, "f32")
    y_t = ttype(out_shape, "i8")
    body = (constant("wq", w_int.to(torch.int8)) + constant("sw", sw) +
            i32("zw", zw.numpy()) + constant("b", bias) +
            scalar_f32("sx", sx) + i32("zx", zx) + scalar_f32("sy", sy) + i32("zy", zy))
    body += (f"  %xf = qfuse.dequantize %x, %sx, %zx {{uint8}} : ({x_t}, tensor<f32>, tensor<i32>) -> {f_t}\n"
             f"  %wf = qfuse.dequantize %wq, %sw, %zw {{axis = 0 : i64}} : "
             f"({ttype(list(w_int.shape), 'i8')}, tensor<{cout}xf32>, tensor<{cout}xi32>) -> {wf_t}\n")
    if linear:
        body += (f"  %yf = qfuse.linear %xf, %wf, %b {{activation = #qfuse.activation<relu>}} : "
                 f"({f_t}, {wf_t}, tensor<{cout}xf32>) -> {yf_t}\n")
    else:
        body += (f"  %yf = qfuse.conv %xf, %wf, %b {{strides = {arr([1, 1])}, padding = {arr([1, 1, 1, 1])}, "
                 f"dilations = {arr([1, 1])}, activation = #qfuse.activation<relu>}} : "
                 f"({f_t}, {wf_t}, tensor<{cout}xf32>) -> {yf_t}\n")
    body += (f"  %y = qfuse.quantize %yf, %sy, %zy {{quant_min = 0 : i64, quant_max = 255 : i64, uint8}} : "
             f"({yf_t}, tensor<f32>, tensor<i32>) -> {y_t}\n")
    mlir = (f"func.func @f(%x: {x_t} {{qfuse.uint8}}) -> ({y_t} {{qfuse.uint8}}) {{\n{body}"
            f"  return %y : {y_t}\n}}\n")
    quantized, remarks = opt(mlir, "--quantize", "--remarks-filter=quantize",
                             "--remark-format=emitRemark")
    op = "qfuse.qlinear" if linear else "qfuse.qconv"
    checker.check(f"{name}: --quantize makes it {op}",
                  op in quantized and "qfuse.conv " not in quantized
                  and "qfuse.linear " not in quantized and "made integer" in remarks)

    x_int = xq.int_repr().numpy()
    (fake,) = run_model(mlir, [x_int])
    (ours,) = run_model(quantized, [x_int])
    theirs = yq.int_repr().numpy()
    d_fake = np.abs(ours.astype(int) - fake.astype(int))
    checker.check(f"{name}: int8 vs fake-quant graph within one step",
                  ours.dtype == np.uint8 and d_fake.max() <= 1,
                  f"(max {d_fake.max()}, {np.count_nonzero(d_fake)} of {ours.size} differ)")

    # The exact value before rounding, as qfuse defines it.
    xi = torch.from_numpy(x_int.astype(np.int64))
    b_int = torch.round(bias.to(torch.float64) /
                        (np.float64(sx) * sw.to(torch.float64)))
    case = dict(linear=linear, stride=[1, 1], pad=[1, 1, 1, 1], dil=[1, 1], groups=1)
    acc, _ = reference(xi, w_int.to(torch.int64), b_int, zx, zw.numpy(), case)
    mult = (np.float64(sx) * sw.to(torch.float64) / np.float64(sy)).reshape(
        [1, -1] + [1] * (acc.dim() - 2))
    exact = (acc * mult).numpy()
    d = np.abs(ours.astype(int) - theirs.astype(int))
    differ = d != 0
    # Where both round a value below the clamp, a mismatch must be a near tie.
    unexplained = differ & ~near_tie(exact)
    if note_only:
        print(f"NOTE: {name}: {np.count_nonzero(differ)} of {d.size} differ from "
              f"qfuse, by up to {d.max()} steps")
        return
    checker.check(f"{name}: int8 vs torch.ao quantized ({'LinearReLU' if linear else 'ConvReLU2d'}) "
                  "equal except at near ties",
                  d.max() <= 1 and not unexplained.any(),
                  f"({np.count_nonzero(differ)} of {d.size} differ, all within 0.01 of a "
                  f"half-way point: {not unexplained.any()})")


for engine, seven_bit in (("qnnpack", False), ("onednn", True)):
    torch_ao_case("conv3x3+bn+relu", False, engine, seven_bit)
    torch_ao_case("linear+relu", True, engine, seven_bit)
torch_ao_case("conv3x3+bn+relu", False, "onednn", note_only=True)


#===-------------------------------------------------------------------------===#
# A two-layer fake-quant network: the integer chain and its error bound.
#===-------------------------------------------------------------------------===#

def chain_case():
    w1 = torch.randn(16, 3, 3, 3)
    b1 = torch.randn(16) * 0.1
    w2 = torch.randn(8, 16, 3, 3) * 0.2
    sw1 = (w1.abs().amax(dim=(1, 2, 3)) / 127).float()
    sw2 = (w2.abs().amax(dim=(1, 2, 3)) / 127).float()
    x_t, h_t, y_t = ("tensor<1x3x16x16xf32>", "tensor<1x16x16x16xf32>",
                     "tensor<1x8x8x8xf32>")
    mlir = ("func.func @f(%x: tensor<1x3x16x16xf32>) -> tensor<1x8x8x8xf32> {\n" +
            constant("w1", w1) + constant("b1", b1) + constant("w2", w2) +
            constant("sw1", sw1) + constant("sw2", sw2) +
            i32("zw1", [0] * 16) + i32("zw2", [0] * 8) +
            scalar_f32("sx", 0.02) + i32("zx", 128) + scalar_f32("s1", 0.03) +
            i32("z1", 0) + scalar_f32("s2", 0.07) + i32("z2", -5) +
            f"  %xq = qfuse.fake_quant %x, %sx, %zx {{quant_min = 0 : i64, quant_max = 255 : i64}} : ({x_t}, tensor<f32>, tensor<i32>) -> {x_t}\n"
            f"  %w1q = qfuse.fake_quant %w1, %sw1, %zw1 {{axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64}} : (tensor<16x3x3x3xf32>, tensor<16xf32>, tensor<16xi32>) -> tensor<16x3x3x3xf32>\n"
            f"  %h = qfuse.conv %xq, %w1q, %b1 {{strides = {arr([1, 1])}, padding = {arr([1, 1, 1, 1])}, dilations = {arr([1, 1])}, activation = #qfuse.activation<relu>}} : ({x_t}, tensor<16x3x3x3xf32>, tensor<16xf32>) -> {h_t}\n"
            f"  %hq = qfuse.fake_quant %h, %s1, %z1 {{quant_min = 0 : i64, quant_max = 255 : i64}} : ({h_t}, tensor<f32>, tensor<i32>) -> {h_t}\n"
            f"  %w2q = qfuse.fake_quant %w2, %sw2, %zw2 {{axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64}} : (tensor<8x16x3x3xf32>, tensor<8xf32>, tensor<8xi32>) -> tensor<8x16x3x3xf32>\n"
            f"  %y = qfuse.conv %hq, %w2q {{strides = {arr([2, 2])}, padding = {arr([1, 1, 1, 1])}, dilations = {arr([1, 1])}}} : ({h_t}, tensor<8x16x3x3xf32>) -> {y_t}\n"
            f"  %yq = qfuse.fake_quant %y, %s2, %z2 {{quant_min = -128 : i64, quant_max = 127 : i64}} : ({y_t}, tensor<f32>, tensor<i32>) -> {y_t}\n"
            f"  return %yq : {y_t}\n}}\n")
    quantized, _ = opt(mlir, "--quantize")
    checker.check("two-layer chain: the integer layers meet without a dequantize/quantize between them",
                  quantized.count("qfuse.qconv") == 2 and quantized.count("qfuse.quantize") == 1
                  and quantized.count("qfuse.dequantize") == 1)
    x = np.random.default_rng(1).uniform(-2, 2, (1, 3, 16, 16)).astype(np.float32)
    (before,) = run_model(mlir, [x])
    (after,) = run_model(quantized, [x])
    steps = np.abs(after.astype(np.float64) - before) / np.float64(np.float32(0.07))
    # Layer 1 can move its output by one step, which layer 2 then sees; each
    # element of the final output stays within one step of its own rounding
    # plus what one step of input can move it: bounded here by 2, and most
    # elements agree.
    checker.check("two-layer chain vs the fake-quant graph",
                  steps.max() <= 2.0 + 1e-6 and np.mean(steps < 0.5) > 0.9,
                  f"(max {steps.max():.3f} steps, {np.mean(steps < 0.5):.1%} equal)")


chain_case()


def example_block():
    """examples/int8_block.mlir (BN kept, fake-quant everywhere): after
    qfuse-ptq (the folds), --quantize changes each output by at most one
    output step; the whole qfuse-ptq{int8=true} pipeline gives two qconvs."""
    import os
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "int8_block.mlir")
    src = open(path).read()
    step = float(re.search(r"%s2 = arith.constant dense<([^>]*)>", src).group(1))
    int8, _ = opt(src, "--pass-pipeline=builtin.module(qfuse-ptq{int8=true})")
    checker.check("examples/int8_block.mlir: qfuse-ptq{int8=true} gives two qconvs, no float conv, no batch-norm",
                  int8.count("qfuse.qconv") == 2 and "qfuse.conv " not in int8
                  and "qfuse.batch_norm" not in int8 and "qfuse.fake_quant" not in int8)
    folded, _ = opt(src, "--qfuse-ptq")
    worst = 0.0
    for seed in range(3):
        x = np.random.default_rng(10 + seed).standard_normal((1, 3, 16, 16)).astype(np.float32)
        (a,) = run_model(folded, [x])
        (b,) = run_model(int8, [x])
        worst = max(worst, float(np.abs(a.astype(np.float64) - b).max()) / step)
    checker.check("examples/int8_block.mlir: int8 vs the folded fake-quant graph within one step",
                  worst <= 1.0 + 1e-4, f"(max {worst:.6f} steps over 3 inputs)")


example_block()


def batchnorm_case():
    """conv -> batch-norm (one negative gamma) -> relu -> fake-quant with
    the batch-norm left in place (as when fold-bn refuses it): --quantize
    puts it into the integer weight scales (|k|), the signs of the weights
    (k < 0) and the bias; the result stays within one step of the float
    graph, which PyTorch computes too."""
    w = torch.randn(16, 8, 3, 3) * 0.3
    sw = (w.abs().amax(dim=(1, 2, 3)) / 127).float()
    gamma = torch.rand(16) + 0.5
    gamma[3] = -gamma[3]
    beta, mean, var = torch.randn(16) * 0.1, torch.randn(16) * 0.2, torch.rand(16) + 0.5
    sx, sy = 0.02, 0.04
    x_t, y_t, v_t = "tensor<1x8x10x10xf32>", "tensor<1x16x10x10xf32>", "tensor<16xf32>"
    mlir = ("func.func @f(%x: tensor<1x8x10x10xf32>) -> tensor<1x16x10x10xf32> {\n" +
            constant("w", w) + constant("sw", sw) + i32("zw", [0] * 16) +
            constant("g", gamma) + constant("b", beta) + constant("m", mean) + constant("v", var) +
            scalar_f32("sx", sx) + i32("zx", 128) + scalar_f32("sy", sy) + i32("zy", 0) +
            f"  %xq = qfuse.fake_quant %x, %sx, %zx {{quant_min = 0 : i64, quant_max = 255 : i64}} : ({x_t}, tensor<f32>, tensor<i32>) -> {x_t}\n"
            f"  %wq = qfuse.fake_quant %w, %sw, %zw {{axis = 0 : i64, quant_min = -127 : i64, quant_max = 127 : i64}} : (tensor<16x8x3x3xf32>, {v_t}, tensor<16xi32>) -> tensor<16x8x3x3xf32>\n"
            f"  %c = qfuse.conv %xq, %wq {{strides = {arr([1, 1])}, padding = {arr([1, 1, 1, 1])}, dilations = {arr([1, 1])}}} : ({x_t}, tensor<16x8x3x3xf32>) -> {y_t}\n"
            f"  %bn = qfuse.batch_norm %c, %m, %v scale(%g) offset(%b) {{epsilon = 1.0e-05 : f64}} : {y_t}, {v_t}, {v_t}, {v_t}, {v_t}\n"
            f"  %r = qfuse.relu %bn : {y_t}\n"
            f"  %y = qfuse.fake_quant %r, %sy, %zy {{quant_min = 0 : i64, quant_max = 255 : i64}} : ({y_t}, tensor<f32>, tensor<i32>) -> {y_t}\n"
            f"  return %y : {y_t}\n}}\n")
    quantized, remarks = opt(mlir, "--quantize", "--remarks-filter=quantize",
                             "--remark-format=emitRemark")
    checker.check("conv -> batch-norm -> relu -> fake-quant: one qconv, the batch-norm and relu gone",
                  quantized.count("qfuse.qconv") == 1 and "qfuse.batch_norm" not in quantized
                  and "qfuse.relu" not in quantized and "activation = #qfuse.activation<relu>" in quantized)
    x = np.random.default_rng(5).uniform(-2, 2, (1, 8, 10, 10)).astype(np.float32)
    (before,) = run_model(mlir, [x])
    (after,) = run_model(quantized, [x])
    steps = np.abs(after.astype(np.float64) - before) / np.float64(np.float32(sy))
    # PyTorch on the same fake-quant graph (its fake_quantize multiplies by
    # 1/scale; the inputs here are not at rounding ties of sx).
    xq = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), sx, 128, 0, 255)
    wq = torch.fake_quantize_per_channel_affine(w, sw, torch.zeros(16, dtype=torch.int32), 0, -127, 127)
    ref = torch.relu(F.batch_norm(F.conv2d(xq, wq, padding=1), mean, var, gamma, beta, False, 0.0, 1e-5))
    ref = torch.fake_quantize_per_tensor_affine(ref, sy, 0, 0, 255).numpy()
    steps_pt = np.abs(after.astype(np.float64) - ref) / np.float64(np.float32(sy))
    checker.check("conv -> batch-norm -> relu -> fake-quant: int8 within one step of the float graph and of PyTorch",
                  steps.max() <= 1 + 1e-4 and steps_pt.max() <= 1 + 1e-4,
                  f"(max {steps.max():.4f} / {steps_pt.max():.4f} steps, negative-gamma channel included)")


batchnorm_case()

raise SystemExit(checker.close())
