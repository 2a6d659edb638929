# PTX from --qfuse-lower-to-nvvm, for sm_80 and sm_90, assembled by the CUDA
# toolkit's ptxas when it is installed: the bundled ResNet block after
# --qfuse-ptq (fused conv + bias + relu), a per-channel fake_quant, a frozen
# and a train-mode QAT op (whose convolution must be the tiled kernel), and the ResNet-18 conv layers (conv1 7x7/2 and the
# four 3x3 stages, fused with relu) at batch 1 and 32, each of which must be
# one kernel staging in shared memory, except where the tiles are few (the
# 3x3 stages at batch 1): there the reduction is split and a second, flat
# kernel adds the slices, the bias and the relu; with target-blocks=0 the
# same layer is one kernel again. Every kernel must assemble with no spills;
# registers and shared memory are reported. Nothing runs on a GPU here.
# REQUIRES: ptxas
# RUN: %python %s %qfuse_src | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import os
import re
import subprocess
import sys

from qfuse_testing import Checker, run

chk = Checker()
src = sys.argv[1]
PTXAS = "/usr/local/cuda/bin/ptxas"

QAT = """
func.func @qat(%x: tensor<4x8x6x6xf32>, %w: tensor<16x8x3x3xf32>, %m: tensor<16xf32>, %v: tensor<16xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>) {
  %y, %m1, %v1 = qfuse.qat_conv_bn %x, %w stats(%m, %v) weight_quant(%s, %zp) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>, epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64, mode = #qfuse.qat_mode<MODE>, weight_axis = 0 : i64, weight_quant_min = -127 : i64, weight_quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<4x8x6x6xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xi32>) -> (tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>)
  return %y, %m1, %v1 : tensor<4x16x6x6xf32>, tensor<16xf32>, tensor<16xf32>
}
"""
FQ = """
func.func @fq(%x: tensor<2x16x8x8xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> tensor<2x16x8x8xf32> {
  %0 = qfuse.fake_quant %x, %s, %zp {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xi32>) -> tensor<2x16x8x8xf32>
  return %0 : tensor<2x16x8x8xf32>
}
"""


def conv(n, cin, cout, k, size, stride):
    pad = k // 2
    out = (size + 2 * pad - k) // stride + 1
    xt = f"tensor<{n}x{cin}x{size}x{size}xf32>"
    wt = f"tensor<{cout}x{cin}x{k}x{k}xf32>"
    bt = f"tensor<{cout}xf32>"
    yt = f"tensor<{n}x{cout}x{out}x{out}xf32>"
    return f"""
func.func @conv(%x: {xt}, %w: {wt}, %b: {bt}) -> {yt} {{
  %0 = qfuse.conv %x, %w, %b {{strides = array<i64: {stride}, {stride}>, padding = array<i64: {pad}, {pad}, {pad}, {pad}>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>}} : ({xt}, {wt}, {bt}) -> {yt}
  return %0 : {yt}
}}
"""


LAYERS = [("conv1", 3, 64, 7, 224, 2), ("l1", 64, 64, 3, 56, 1),
          ("l2", 128, 128, 3, 28, 1), ("l3", 256, 256, 3, 14, 1),
          ("l4", 512, 512, 3, 7, 1)]


def unescape(text):
    return re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


block = open(os.path.join(src, "examples", "resnet_block.mlir")).read()
block = run("qfuse-opt", ["--qfuse-ptq"], stdin=block).stdout
cases = [("resnet_block", block), ("fake_quant", FQ),
         ("qat_frozen", QAT.replace("MODE", "frozen")),
         ("qat_train", QAT.replace("MODE", "train"))]
cases += [(f"resnet18 {name} b{n}", conv(n, *shape))
          for name, *shape in LAYERS for n in (1, 32)]
cases += [("resnet18 l4 b1 unsplit", conv(1, *LAYERS[4][1:]))]
# Layers whose tiles give fewer than 132 blocks: split reductions.
SPLIT = {f"resnet18 {name} b1" for name in ("l1", "l2", "l3", "l4")}
for chip in ("sm_80", "sm_90"):
    for name, mlir in cases:
        extra = " target-blocks=0" if name.endswith("unsplit") else ""
        out = run("qfuse-opt", [f"--pass-pipeline=builtin.module(qfuse-lower-to-nvvm{{chip={chip}{extra}}})"],
                  stdin=mlir).stdout
        kernels = re.findall(r'gpu\.binary @(\w+)\s+\[#gpu\.object<[^\]]*?assembly = "((?:[^"\\]|\\.)*)"', out)
        chk.check(f"{chip} {name}: PTX produced", len(kernels) > 0, f"({len(kernels)} kernels)")
        if name.startswith("resnet18"):
            want = 2 if name in SPLIT else 1
            chk.check(f"{chip} {name}: {want} kernel{'s' if want > 1 else ''}",
                      len(kernels) == want, f"({len(kernels)} kernels)")
        regs, spills, bad, smem = [], 0, [], []
        for kname, asm in kernels:
            ptx = unescape(asm)
            path = f"/tmp/qfuse-{os.getpid()}-{kname}.ptx"
            with open(path, "w") as f:
                f.write(ptx)
            r = subprocess.run([PTXAS, f"-arch={chip}", "-v", path, "-o", "/dev/null"],
                               capture_output=True, text=True)
            os.remove(path)
            if r.returncode != 0:
                bad.append(kname + ": " + " ".join(r.stderr.split())[:300])
            regs += [int(x) for x in re.findall(r"Used (\d+) registers", r.stderr)]
            spills += sum(int(x) for x in re.findall(r"(\d+) bytes spill stores", r.stderr))
            smem += [int(x) for x in re.findall(r"(\d+) bytes smem", r.stderr)]
        if name.startswith("resnet18"):
            # The tiled kernel stages; the flat sum of slices does not.
            chk.check(f"{chip} {name}: the conv kernel staged in shared memory",
                      sorted(m > 0 for m in smem) == [False] * (len(smem) - 1) + [True],
                      f"({max(smem or [0])} bytes)")
        if name.startswith("qat"):
            # The QAT convolution is the tiled kernel too (qfuse-expand-qat).
            chk.check(f"{chip} {name}: its conv staged in shared memory",
                      smem and max(smem) > 0, f"({max(smem or [0])} bytes)")
        chk.check(f"{chip} {name}: ptxas accepts every kernel, no spills",
                  not bad and spills == 0,
                  f"(max {max(regs) if regs else 0} registers, {spills} bytes spilled{', failed: ' + ','.join(bad) if bad else ''})")

sys.exit(chk.close())
