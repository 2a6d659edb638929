# qfuse.nontemporal_write, JIT-run by qfuse-run: every write lands where an
# in-bounds vector.transfer_write would put it, whichever branch the
# run-time alignment check takes. Rows of 13 floats put the vectors at byte
# offsets 4·(13·r + c) from a 64-byte-aligned buffer: 32-byte aligned (the
# non-temporal store) only where 13·r + c is a multiple of 8. The output is
# a copy of the input with the writes applied, checked against NumPy;
# qfuse.prefetch and qfuse.store_fence change no value.
# RUN: %python %s | FileCheck %s
# CHECK-NOT: FAIL
# CHECK: {{[0-9]+}} passed, 0 failed

import sys

import numpy as np

from qfuse_testing import Checker, opt, run_model

chk = Checker()
ROWS, COLS = 6, 13
# (source row, source column, destination row, destination column)
WRITES = [(0, 0, 0, 0), (1, 2, 0, 3), (2, 5, 1, 3), (3, 0, 2, 1),
          (4, 4, 3, 5), (5, 1, 4, 4), (0, 5, 5, 5)]
T = f"tensor<{ROWS}x{COLS}xf32>"

body = []
cur = "%d0"
for i, (sr, sc, dr, dc) in enumerate(WRITES):
    body.append(f"  %v{i} = vector.transfer_read %x[%c{sr}, %c{sc}], %pad "
                f"{{in_bounds = [true]}} : {T}, vector<8xf32>")
    body.append(f"  qfuse.prefetch %x[%c{sr}, %c{sc}] {{locality = 3 : i32}}"
                f" : {T}")
    body.append(f"  %d{i + 1} = qfuse.nontemporal_write %v{i}, {cur}[%c{dr}, "
                f"%c{dc}] : vector<8xf32> into {T}")
    cur = f"%d{i + 1}"
consts = "\n".join(f"  %c{k} = arith.constant {k} : index" for k in range(8))
MLIR = f"""func.func @main(%x: {T}, %y: {T}) -> {T} {{
{consts}
  %pad = arith.constant 0.0 : f32
  %d0 = linalg.copy ins(%y : {T}) outs(%y : {T}) -> {T}
{chr(10).join(body)}
  qfuse.store_fence
  return {cur} : {T}
}}
"""

aligned = sum((13 * dr + dc) % 8 == 0 for _, _, dr, dc in WRITES)
chk.check("writes on both branches", 0 < aligned < len(WRITES),
          f"({aligned} of {len(WRITES)} aligned)")
lowered, _ = opt(MLIR, "--qfuse-lower-to-llvm")
chk.check("lowered with non-temporal stores", "nontemporal" in lowered)

rng = np.random.default_rng(3)
x = rng.standard_normal((ROWS, COLS)).astype(np.float32)
y = rng.standard_normal((ROWS, COLS)).astype(np.float32)
want = y.copy()
for sr, sc, dr, dc in WRITES:
    want[dr, dc:dc + 8] = x[sr, sc:sc + 8]
for threads in (0, 2):
    got, = run_model(MLIR, [x, y], [f"--num-threads={threads}"])
    chk.check(f"{threads} threads: every write in place",
              np.array_equal(got, want))

sys.exit(chk.close())
