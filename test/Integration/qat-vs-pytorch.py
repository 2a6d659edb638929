# qfuse.qat_conv_bn, JIT-run by qfuse-run, against PyTorch's QAT fused modules
# (torch.nn.intrinsic.qat ConvBn2d / ConvBnReLU2d / LinearBn1d, approximate
# path) computing the same forward at test time: output and the updated
# running statistics, in train and frozen mode, per-channel and per-tensor
# weight fake-quant, custom eps and momentum. Weight quant scales are powers
# of two, so PyTorch's x·(1/s) equals qfuse's x/s and no weight can land on a
# different step. Tolerances (relative to the largest |reference|): output
# 1e-5, running statistics 1e-6.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np
import torch
import torch.nn.functional as F
import torch.nn.intrinsic.qat as nniqat
from torch.ao.quantization import (FakeQuantize, MovingAverageMinMaxObserver,
                                   MovingAveragePerChannelMinMaxObserver,
                                   QConfig)

from qfuse_testing import Checker, run_model

torch.manual_seed(3)
chk = Checker()


def qconfig(per_channel):
    if per_channel:
        w = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver,
                                   quant_min=-128, quant_max=127, dtype=torch.qint8,
                                   qscheme=torch.per_channel_symmetric, ch_axis=0)
    else:
        w = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver,
                                   quant_min=-128, quant_max=127, dtype=torch.qint8,
                                   qscheme=torch.per_tensor_symmetric)
    a = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver)
    return QConfig(activation=a, weight=w)


def tt(shape, elt="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def arr(xs):
    return "array<i64: " + ", ".join(str(v) for v in xs) + ">"


def rel(got, ref):
    ref = ref.detach().double().numpy()
    return np.abs(got.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30)


def setup(m, cout, per_channel, quant, zero_gamma=False):
    bn = m.bn
    with torch.no_grad():
        # Every parameter is set here: torch 1.13's LinearBn1d leaves its bias
        # uninitialized (values like 1e20 were seen).
        if m.bias is not None:
            m.bias.copy_(torch.randn(cout) * 0.1)
        bn.weight.copy_(torch.rand(cout) + 0.5)
        bn.weight[1] = -bn.weight[1]
        if zero_gamma:
            bn.weight[2] = 0.0
        bn.bias.copy_(torch.randn(cout) * 0.3)
        bn.running_mean.copy_(torch.randn(cout) * 0.3)
        bn.running_var.copy_(torch.rand(cout) + 0.3)
        k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        wk = m.weight.detach() * k.reshape([-1] + [1] * (m.weight.dim() - 1))
    fq = m.weight_fake_quant
    fq.disable_observer()
    if not quant:
        fq.disable_fake_quant()
        return None
    amax = wk.abs().reshape(cout, -1).amax(1) if per_channel else wk.abs().max()
    scale = torch.pow(2.0, torch.ceil(torch.log2(amax.clamp_min(1e-8) / 127)))
    if per_channel:
        fq.scale = scale.float()
        fq.zero_point = torch.zeros(cout, dtype=torch.int32)
    else:
        fq.scale = scale.float().reshape(1)
        fq.zero_point = torch.zeros(1, dtype=torch.int32)
    return fq


def qat_case(name, kind, train, per_channel=True, quant=True, relu=False,
             eps=1e-5, momentum=0.1, bias=True, zero_gamma=False):
    qc = qconfig(per_channel)
    if kind == "linear":
        cin, cout = 12, 6
        m = nniqat.LinearBn1d(cin, cout, bias=bias, eps=eps, momentum=momentum, qconfig=qc)
        x = torch.randn(8, cin)
        attrs = ("strides = array<i64>, padding = array<i64>, dilations = array<i64>, "
                 "output_padding = array<i64>")
    else:
        cin, cout = 3, 6
        cls = nniqat.ConvBnReLU2d if relu else nniqat.ConvBn2d
        m = cls(cin, cout, 3, stride=2, padding=1, bias=bias, eps=eps,
                momentum=momentum, qconfig=qc)
        x = torch.randn(2, cin, 9, 9)
        attrs = (f"strides = {arr([2, 2])}, padding = {arr([1] * 4)}, "
                 f"dilations = {arr([1, 1])}, output_padding = array<i64>")
    fq = setup(m, cout, per_channel, quant, zero_gamma)
    old_mean, old_var = m.bn.running_mean.clone(), m.bn.running_var.clone()
    ins = [x, m.weight.detach()]
    if bias:
        ins.append(m.bias.detach())
    ins += [old_mean, old_var, m.bn.weight.detach(), m.bn.bias.detach()]
    if train:
        m.train()
    else:
        m.eval()
    with torch.no_grad():
        ref = m(x)
    new_mean, new_var = m.bn.running_mean, m.bn.running_var

    names = ["x", "w"] + (["b"] if bias else []) + ["m", "v", "g", "beta"]
    types = [tt(t.shape) for t in ins]
    if fq is not None:
        ins += [fq.scale, fq.zero_point]
        names += ["s", "zp"]
        types += [tt(fq.scale.shape), tt(fq.zero_point.shape, "i32")]
        if not per_channel:  # per-tensor: shape [1]
            pass
        attrs += (", weight_quant_min = -128 : i64, weight_quant_max = 127 : i64" +
                  (", weight_axis = 0 : i64" if per_channel else ""))
    attrs += (f", epsilon = {eps:.17e} : f64, momentum = {momentum:.17e} : f64, "
              f"mode = #qfuse.qat_mode<{'train' if train else 'frozen'}>")
    if relu:
        attrs += ", activation = #qfuse.activation<relu>"
    out_t, st_t = tt(ref.shape), tt([cout])
    sig = ", ".join(f"%{n}: {t}" for n, t in zip(names, types))
    operands = "%x, %w" + (" bias(%b)" if bias else "") + " stats(%m, %v) scale(%g) offset(%beta)"
    if fq is not None:
        operands += " weight_quant(%s, %zp)"
    mlir = (f"func.func @f({sig}) -> ({out_t}, {st_t}, {st_t}) {{\n"
            f"  %y, %m1, %v1 = qfuse.qat_conv_bn {operands} {{{attrs}}} : "
            f"({', '.join(types)}) -> ({out_t}, {st_t}, {st_t})\n"
            f"  return %y, %m1, %v1 : {out_t}, {st_t}, {st_t}\n}}\n")
    y, m1, v1 = run_model(mlir, [t.detach().numpy() for t in ins])
    if zero_gamma:
        # PyTorch: 0/0 = NaN on the γ = 0 channel; qfuse: exactly β there.
        chk.check(f"{name}: PyTorch gives NaN on the gamma=0 channel",
                  bool(torch.isnan(ref[:, 2]).all()))
        beta2 = m.bn.bias[2].item()
        chk.check(f"{name}: qfuse gives beta on the gamma=0 channel",
                  np.isfinite(y).all() and np.all(y[:, 2] == np.float32(beta2)))
        keep = [c for c in range(cout) if c != 2]
        e = rel(y[:, keep], ref[:, keep])
        chk.check(f"{name}: other channels match", e <= 1e-5, f"(rel err {e:.2e})")
        return
    e = rel(y, ref)
    chk.check(f"{name}: output", e <= 1e-5, f"(rel err {e:.2e}, tol 1e-05)" +
              ("" if e <= 1e-5 else
               f" max|qfuse| {np.abs(y).max():.3e} max|torch| {ref.abs().max().item():.3e}"))
    em, ev = rel(m1, new_mean), rel(v1, new_var)
    chk.check(f"{name}: running mean after the step", em <= 1e-6, f"(rel err {em:.2e}, tol 1e-06)")
    chk.check(f"{name}: running var after the step (unbiased)", ev <= 1e-6, f"(rel err {ev:.2e}, tol 1e-06)")
    if not train:
        chk.check(f"{name}: frozen leaves the statistics unchanged",
                  np.array_equal(m1, old_mean.numpy()) and np.array_equal(v1, old_var.numpy()))


qat_case("ConvBn2d train per-channel eps=1e-3 momentum=0.2", "conv", True, eps=1e-3, momentum=0.2)
qat_case("ConvBnReLU2d train per-tensor", "conv", True, per_channel=False, relu=True)
qat_case("ConvBnReLU2d frozen per-channel", "conv", False, relu=True)
qat_case("ConvBn2d train no bias, fake-quant disabled", "conv", True, quant=False, bias=False)
qat_case("LinearBn1d train per-channel momentum=0.3", "linear", True, momentum=0.3)
qat_case("LinearBn1d frozen per-tensor eps=1e-4", "linear", False, per_channel=False, eps=1e-4)
qat_case("ConvBn2d frozen gamma=0 (guarded)", "conv", False, zero_gamma=True)
qat_case("ConvBn2d train gamma=0 (guarded)", "conv", True, zero_gamma=True)

sys.exit(chk.close())
