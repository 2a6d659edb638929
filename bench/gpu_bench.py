#!/usr/bin/env python3
"""qfuse's GPU kernels against cuDNN, on a machine with a CUDA GPU and a
PyTorch built with CUDA (cuDNN inside).

Runs `qfuse-bench --device=cuda` (qfuse's kernels, best of N by CUDA events,
output checked against oneDNN on the CPU) and, for each of its rows, times
the same layer, batch and form through PyTorch on the same GPU: the fused
form as conv2d with the folded bias followed by relu, the unfused form as
conv2d, batch_norm (eval) and relu. cuDNN runs in f32 with TF32 off, so both
sides do f32 fused multiply-adds; cudnn.benchmark picks its fastest
algorithm first. Each row gains "cudnn_ms" (best of N: CUDA events around
a replay of the PyTorch calls captured as a CUDA graph, so no host dispatch
is timed), "cudnn_conv_ms" (the conv2d call alone) and "ratio" = qfuse_ms /
cudnn_ms.

Debian's PyTorch is CPU-only, so this runs where the GPU is:
  python3 bench/gpu_bench.py --build build [--repeat 50] [--layers l1,l4]
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F


def best_ms(fn, repeat):
    """The best of `repeat` replays of `fn` captured as a CUDA graph, each
    between two CUDA events, after warm-up runs (cudnn.benchmark's algorithm
    search happens there). The graph keeps PyTorch's host-side dispatch out
    of the time, as qfuse's times are its kernels' own."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(5):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    graph.replay()
    torch.cuda.synchronize()
    best = float("inf")
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    for _ in range(repeat):
        start.record()
        graph.replay()
        stop.record()
        stop.synchronize()
        best = min(best, start.elapsed_time(stop))
    return best


def cudnn_times(row, repeat):
    n, c, h, w = row["batch"], row["c"], row["h"], row["w"]
    k, kh, groups = row["k"], row["kh"], row["groups"]
    stride, pad = row["stride"], row["pad"]
    dev = torch.device("cuda")
    x = torch.randn(n, c, h, w, device=dev)
    wt = torch.randn(k, c // groups, kh, kh, device=dev) * 0.1
    b = torch.randn(k, device=dev)
    mean, var = torch.randn(k, device=dev), torch.rand(k, device=dev) + 0.5
    gamma, beta = torch.rand(k, device=dev) + 0.5, torch.randn(k, device=dev)

    def conv():
        return F.conv2d(x, wt, b, stride, pad, 1, groups)

    if row["form"] == "fused":
        def layer():
            return torch.relu_(F.conv2d(x, wt, b, stride, pad, 1, groups))
    else:
        def layer():
            y = F.conv2d(x, wt, None, stride, pad, 1, groups)
            return torch.relu_(F.batch_norm(y, mean, var, gamma, beta, False,
                                            0.0, 1e-5))
    with torch.no_grad():
        return best_ms(layer, repeat), best_ms(conv, repeat)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__),
                                                    "..", "build"))
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--layers", default="")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--forms", default="both")
    ap.add_argument("--lowering", default="",
                    help="further --qfuse-lower-to-nvvm options for qfuse's "
                         "kernels, e.g. 'target-blocks=0' (an A/B run)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_bench.py: this PyTorch sees no CUDA GPU", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    cmd = [os.path.join(args.build, "bin", "qfuse-bench"), "--device=cuda",
           f"--repeat={args.repeat}", f"--batches={args.batches}",
           f"--forms={args.forms}"]
    if args.layers:
        cmd.append(f"--layers={args.layers}")
    if args.lowering:
        cmd.append(f"--lowering={args.lowering}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        row = json.loads(line)
        if "layer" not in row:  # the header line: machine facts
            print(line, end="", flush=True)
            continue
        layer_ms, conv_ms = cudnn_times(row, args.repeat)
        row["cudnn_ms"] = round(layer_ms, 4)
        row["cudnn_conv_ms"] = round(conv_ms, 4)
        row["ratio"] = round(row["qfuse_ms"] / layer_ms, 3)
        if args.lowering:
            row["lowering"] = args.lowering
        row["torch"] = torch.__version__
        row["cudnn"] = torch.backends.cudnn.version()
        print(json.dumps(row), flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
