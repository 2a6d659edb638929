# Batched QLinearMatMul and MatMulInteger (numpy matmul broadcasting): A
# [2, 3, 4] against B [4, 5] (one qlinear over all 6 rows), against B
# [1, 4, 5] (one qlinear per batch, B broadcast) and B [2, 4, 5], and a
# 4-D A [2, 1, 3, 4] against B [3, 4, 5]. Each is run by qfuse-run and
# compared with the exact integer result computed here in float64 (equal for
# MatMulInteger; within one step, equal away from ties, for QLinearMatMul),
# and the broadcast forms must equal each other bit for bit.
# REQUIRES: torch
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import os
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

from qfuse_testing import Checker, run

chk = Checker()
rng = np.random.default_rng(3)


def model(op, a_shape, b_shape, out_shape):
    u8 = TensorProto.UINT8
    if op == "QLinearMatMul":
        inputs = [("a", u8, a_shape), ("a_scale", TensorProto.FLOAT, []),
                  ("a_zero_point", u8, []), ("b", u8, b_shape),
                  ("b_scale", TensorProto.FLOAT, []), ("b_zero_point", u8, []),
                  ("y_scale", TensorProto.FLOAT, []), ("y_zero_point", u8, [])]
        out = ("y", u8, out_shape)
    else:
        inputs = [("A", u8, a_shape), ("B", u8, b_shape),
                  ("a_zero_point", u8, []), ("b_zero_point", u8, [])]
        out = ("Y", TensorProto.INT32, out_shape)
    node = helper.make_node(op, [i[0] for i in inputs], [out[0]])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(*i) for i in inputs],
        [helper.make_tensor_value_info(*out)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def run_onnx(m, ins):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        onnx.save(m, path)
        args = [path]
        for i, x in enumerate(ins):
            p = os.path.join(tmp, f"in{i}.npy")
            np.save(p, x)
            args += ["--input", p]
        args += ["--output", os.path.join(tmp, "out.npy")]
        run("qfuse-run", args)
        return np.load(os.path.join(tmp, "out.npy"))


def case(a_shape, b_shape, a=None, b=None):
    out_shape = list(np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))) + \
        [a_shape[-2], b_shape[-1]]
    if a is None:
        a = rng.integers(0, 256, a_shape, dtype=np.uint8)
        b = rng.integers(0, 256, b_shape, dtype=np.uint8)
    za, zb = np.uint8(118), np.uint8(131)
    acc = np.matmul(a.astype(np.int64) - int(za), b.astype(np.int64) - int(zb))
    name = f"A{a_shape} B{b_shape}"
    got = run_onnx(model("MatMulInteger", a_shape, b_shape, out_shape),
                   [a, b, np.array(za), np.array(zb)])
    chk.check(f"MatMulInteger {name}: exact", got.dtype == np.int32 and
              np.array_equal(got, acc))
    sa, sb, sy, zy = np.float32(0.02), np.float32(0.015), np.float32(0.9), np.uint8(7)
    y = np.clip(np.round(acc * (float(sa) * float(sb) / float(sy))) + int(zy), 0, 255)
    got = run_onnx(model("QLinearMatMul", a_shape, b_shape, out_shape),
                   [a, np.array(sa), np.array(za), b, np.array(sb), np.array(zb),
                    np.array(sy), np.array(zy)])
    diff = np.abs(got.astype(np.int64) - y)
    chk.check(f"QLinearMatMul {name}: within one step", got.dtype == np.uint8 and
              diff.max() <= 1, f"({int((diff > 0).sum())} of {diff.size} differ)")
    return got


a0 = rng.integers(0, 256, [2, 3, 4], dtype=np.uint8)
b0 = rng.integers(0, 256, [4, 5], dtype=np.uint8)
two_d = case([2, 3, 4], [4, 5], a0, b0)
broadcast = case([2, 3, 4], [1, 4, 5], a0, b0.reshape(1, 4, 5))
case([2, 3, 4], [2, 4, 5])
case([2, 1, 3, 4], [3, 4, 5])
chk.check("B [4, 5] and B [1, 4, 5] agree bit for bit", np.array_equal(two_d, broadcast))

raise SystemExit(chk.close())
