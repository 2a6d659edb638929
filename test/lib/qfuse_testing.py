"""Helpers for qfuse's numerical tests: emit MLIR from PyTorch tensors, run
qfuse tools, read constants back from the printed IR.

Values cross the MLIR boundary bit-exactly: tensors are written and read as
hex dense literals (little-endian raw data), never as decimal strings.
"""

import os
import re
import subprocess

import numpy as np
import torch

QFUSE_BIN = os.environ.get("QFUSE_BIN", os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin"))

_DTYPES = {
    torch.float32: ("f32", np.float32),
    torch.float64: ("f64", np.float64),
    torch.float16: ("f16", np.float16),
    torch.bfloat16: ("bf16", None),
    torch.int32: ("i32", np.int32),
    torch.int8: ("i8", np.int8),
}


def elt(t):
    return _DTYPES[t.dtype][0]


def ttype(t):
    shape = "x".join(str(d) for d in t.shape)
    return f"tensor<{shape}x{elt(t)}>" if t.dim() else f"tensor<{elt(t)}>"


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(_DTYPES[t.dtype][1]().dtype.newbyteorder("<")).tobytes()


def dense(t):
    """Exact MLIR literal for tensor `t` (hex of its raw data)."""
    return f'dense<"0x{_raw_bytes(t).hex().upper()}">'


def constant(name, t):
    return f"  %{name} = arith.constant {dense(t)} : {ttype(t)}\n"


def run(tool, args, stdin=None, check=True):
    proc = subprocess.run([os.path.join(QFUSE_BIN, tool)] + list(args),
                          input=stdin, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def opt(mlir, *args):
    """Runs qfuse-opt; returns (stdout with every constant in hex, stderr)."""
    proc = run("qfuse-opt", list(args) +
               ["--mlir-print-elementsattrs-with-hex-if-larger=0"], stdin=mlir)
    return proc.stdout, proc.stderr


_CONST_RE = re.compile(
    r"%([\w.]+) = arith\.constant dense<(.*?)> : tensor<([^>]*)>")


def _parse_type(spec):
    parts = spec.split("x")
    return [int(p) for p in parts[:-1]], parts[-1]


def _from_hex(hexstr, shape, et):
    raw = bytes.fromhex(hexstr[2:])
    count = int(np.prod(shape)) if shape else 1
    if et == "bf16":
        ints = np.frombuffer(raw, dtype="<i2").astype(np.int16)
        t = torch.from_numpy(ints.copy()).view(torch.bfloat16).to(torch.float64)
    else:
        np_t = {"f32": "<f4", "f64": "<f8", "f16": "<f2", "i32": "<i4",
                "i8": "i1", "i64": "<i8"}[et]
        t = torch.from_numpy(np.frombuffer(raw, dtype=np_t).astype(np.float64))
    if t.numel() == 1 and count != 1:
        t = t.expand(count)
    return t.reshape(shape)


def constants(mlir):
    """{ssa name: float64 tensor} for every arith.constant in `mlir`."""
    out = {}
    for name, body, spec in _CONST_RE.findall(mlir):
        shape, et = _parse_type(spec)
        body = body.strip()
        if body.startswith('"'):
            out[name] = _from_hex(body.strip('"'), shape, et)
        else:  # splat, printed as a scalar
            value = float.fromhex(body) if body.startswith("0x") else float(body)
            out[name] = torch.full(shape, value, dtype=torch.float64)
    return out


def ops(mlir, opname):
    """Lines holding `opname` as [(result, [operands], attr text)]."""
    found = []
    for line in mlir.splitlines():
        m = re.search(r"(%[\w.:#]+) = " + re.escape(opname) +
                      r" ((?:%[\w.#]+(?:, )?)+)", line)
        if m:
            operands = [o.strip().lstrip("%")
                        for o in m.group(2).split(",") if o.strip()]
            found.append((m.group(1).lstrip("%"), operands, line))
    return found


def round_to(t64, dtype):
    """Round a float64 tensor once to `dtype`, back in float64."""
    return t64.to(dtype).to(torch.float64)


class Checker:
    """Collects named checks and prints lit-friendly PASS/FAIL lines."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS: {name} {detail}")
        else:
            self.failed += 1
            print(f"FAIL: {name} {detail}")

    def close(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def run_model(mlir, inputs, extra_args=()):
    """JIT-runs the only public function of `mlir` with qfuse-run on numpy
    `inputs`; returns its results as numpy arrays."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model.mlir")
        with open(model, "w") as f:
            f.write(mlir)
        args = [model]
        for i, x in enumerate(inputs):
            path = os.path.join(tmp, f"in{i}.npy")
            np.save(path, np.require(x, requirements="C"))  # keeps 0-d arrays 0-d
            args += ["--input", path]
        nres = mlir.split("->", 1)[1].split("\n", 1)[0].count("tensor<")
        outs = [os.path.join(tmp, f"out{i}.npy") for i in range(nres)]
        for o in outs:
            args += ["--output", o]
        run("qfuse-run", args + list(extra_args))
        return [np.load(o) for o in outs]


_CMP_RE = re.compile(r"result (\d+): max abs err (\S+), max rel err (\S+)")


def compare_after(mlir, pipeline, inputs=None, seed=1):
    """Runs `mlir` before and after `pipeline` through qfuse-run on the same
    inputs (numpy arrays, or random from `seed`); returns the list of max
    relative errors per result (max |after - before| / max |before|)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model.mlir")
        with open(model, "w") as f:
            f.write(mlir)
        args = [model, f"--compare-after={pipeline}"]
        if inputs is None:
            args += ["--random-inputs", str(seed)]
        else:
            for i, x in enumerate(inputs):
                path = os.path.join(tmp, f"in{i}.npy")
                np.save(path, np.require(x, requirements="C"))
                args += ["--input", path]
        out = run("qfuse-run", args).stdout
    return [float(m[2]) for m in _CMP_RE.findall(out)]


def arr(xs):
    """MLIR dense i64 array attribute text."""
    return "array<i64: " + ", ".join(str(v) for v in xs) + ">"


def act_attrs(act):
    """qfuse attribute text for a fused activation: None, "relu" or "relu6"."""
    if act == "relu":
        return ", activation = #qfuse.activation<relu>"
    if act == "relu6":
        return (", activation = #qfuse.activation<clamp>, clamp_min = 0.0 : f64,"
                " clamp_max = 6.0 : f64")
    return ""


def apply_act(y, act):
    """The same activation on a torch tensor."""
    import torch
    if act == "relu":
        return torch.relu(y)
    if act == "relu6":
        return torch.clamp(y, 0, 6)
    return y


def f32_tensor_type(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def conv_problem(nd, n, cin, cout, k, size, stride, pads, dil, groups,
                 bias=True, act=None, const_w=False):
    """A random f32 qfuse.conv (`pads`: all begins then all ends, `size` an
    int or per-dim list) as a one-op MLIR function, with its numpy inputs
    and the PyTorch float64 reference (a torch tensor). With `const_w` the
    weight is an arith.constant instead of an argument."""
    import torch.nn.functional as F
    tt = f32_tensor_type
    sizes = size if isinstance(size, (list, tuple)) else [size] * nd
    x = torch.randn(n, cin, *sizes, dtype=torch.float32)
    w = torch.randn(cout, cin // groups, *[k] * nd, dtype=torch.float32) * 0.5
    b = torch.randn(cout, dtype=torch.float32) * 0.1 if bias else None
    fpad = []
    for i in reversed(range(nd)):
        fpad += [pads[i], pads[nd + i]]
    D = torch.float64
    convf = [None, F.conv1d, F.conv2d, F.conv3d][nd]
    ref = apply_act(convf(F.pad(x.to(D), fpad), w.to(D),
                          None if b is None else b.to(D), stride, 0, dil,
                          groups), act)
    sig = [tt(x.shape)] + ([] if const_w else [tt(w.shape)]) + \
        ([tt(b.shape)] if bias else [])
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(sig))
    operands = ["%a0", "%w" if const_w else "%a1"]
    if bias:
        operands.append(f"%a{len(sig) - 1}")
    types = [tt(x.shape), tt(w.shape)] + ([tt(b.shape)] if bias else [])
    out_t = tt(ref.shape)
    body = constant("w", w) if const_w else ""
    mlir = (f"func.func @f({args}) -> {out_t} {{\n{body}"
            f"  %0 = qfuse.conv {', '.join(operands)} {{strides = {arr([stride]*nd)}, "
            f"padding = {arr(pads)}, dilations = {arr([dil]*nd)}, groups = {groups} : i64"
            f"{act_attrs(act)}}} : ({', '.join(types)}) -> {out_t}\n"
            f"  return %0 : {out_t}\n}}\n")
    ins = [x.numpy()] + ([] if const_w else [w.numpy()]) + \
        ([b.numpy()] if bias else [])
    return mlir, ins, ref


def pass_remarks(mlir, pass_flag, category):
    """Runs qfuse-opt `pass_flag` (e.g. "--convert-qfuse-to-vector=...") on
    `mlir`; returns (the output IR, the text of its remarks of `category`
    joined by spaces)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(mlir)
        path = f.name
    try:
        proc = run("qfuse-opt", [path, pass_flag, f"--remarks-filter={category}",
                                 "--remark-format=emitRemark"])
    finally:
        os.unlink(path)
    remark = " ".join(l.split("Remark=", 1)[1] for l in proc.stderr.splitlines()
                      if "Remark=" in l)
    return proc.stdout, remark
