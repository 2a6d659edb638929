#!/usr/bin/env python3
"""Whole-model timing: torchvision ResNet-18 and MobileNetV2 (224x224, batch
1 or --batch, eval mode, seeded weights and batch-norm statistics) through ONNX ->
qfuse-translate -> qfuse-opt --qfuse-ptq -> qfuse-run, against PyTorch eval
(oneDNN) on the same input, the same machine and the same thread counts.
Prints one JSON object per model and thread count; outputs are compared.

Run with Debian's python (torch 1.13):
  /usr/bin/python3 bench/models.py [--build build] [--threads 1 2] [--repeat 20]

On a machine with a CUDA GPU and a PyTorch built with CUDA, --device cuda runs
qfuse-run --device=cuda against PyTorch eval on the same GPU (cuDNN, f32 with
TF32 off), both timed with CUDA events: qfuse's kernel time, qfuse-run's wall
time per call (which adds the input and weight uploads), and PyTorch's time
for eager calls and for replays of the forward captured as a CUDA graph.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision


def build_model(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)()
    # Non-trivial batch-norm statistics, so the folds do real work.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def torch_ms(model, x, threads, repeat):
    torch.set_num_threads(threads)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            y = model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)), float(np.min(times)), y.numpy()


def torch_cuda_ms(model, x, repeat):
    """PyTorch eval on the GPU (cuDNN, f32, TF32 off): the median and best of
    `repeat` eager calls, and the median of `repeat` replays of the same
    forward captured as a CUDA graph (no host dispatch: the kernels and the
    gaps between them), each between CUDA events; and the output."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model, x = model.cuda(), x.cuda()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)

    def timed(fn):
        times = []
        for _ in range(repeat):
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        return times

    with torch.no_grad():
        for _ in range(5):
            y = model(x)
        eager = timed(lambda: model(x))
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            model(x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(x)
        graphed = timed(graph.replay)
    model.cpu()
    return (float(np.median(eager)), float(np.min(eager)),
            float(np.median(graphed)), y.cpu().numpy())


def export_onnx(model, x, path):
    kw = {}
    if int(torch.__version__.split(".")[0]) >= 2:
        kw["dynamo"] = False  # the TorchScript exporter, as with torch 1.13
    torch.onnx.export(model, x, path, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v2"])
    ap.add_argument("--lowering", default="",
                    help="further qfuse-lower-to-llvm options for qfuse-run, "
                         "e.g. 'depthwise-pair-sums=false' (an A/B run)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--kernel-profile", action="store_true",
                    help="with --device cuda: print qfuse-run's time per "
                         "kernel (to stderr)")
    args = ap.parse_args()
    bin_dir = os.path.join(args.build, "bin")

    for name in args.models:
        model = build_model(name)
        x = torch.randn(args.batch, 3, 224, 224,
                        generator=torch.Generator().manual_seed(1))
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = os.path.join(tmp, f"{name}.onnx")
            export_onnx(model, x, onnx_path)
            imported = os.path.join(tmp, "imported.mlir")
            subprocess.run([os.path.join(bin_dir, "qfuse-translate"), "--import-onnx",
                            onnx_path, "-o", imported], check=True)
            ptq = os.path.join(tmp, "ptq.mlir")
            subprocess.run([os.path.join(bin_dir, "qfuse-opt"), "--qfuse-ptq",
                            imported, "-o", ptq], check=True)
            x_path = os.path.join(tmp, "x.npy")
            np.save(x_path, x.numpy())
            if args.device == "cuda":
                run_cuda(args, bin_dir, name, model, x, ptq, x_path, tmp)
                continue
            for threads in args.threads:
                out_path = os.path.join(tmp, "y.npy")
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [os.path.join(bin_dir, "qfuse-run"), ptq, "--input", x_path,
                     "--output", out_path, "--repeat", str(args.repeat),
                     "--num-threads", str(threads if threads > 1 else 0)] +
                    ([f"--lowering={args.lowering}"] if args.lowering else []),
                    check=True, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                m = re.search(r"median (\S+) ms, min (\S+) ms", proc.stdout)
                q_med, q_min = float(m[1]), float(m[2])
                t_med, t_min, ref = torch_ms(model, x, threads, args.repeat)
                got = np.load(out_path)
                err = float(np.abs(got - ref).max() / np.abs(ref).max())
                print(json.dumps({
                    "model": name, "input": "x".join(map(str, x.shape)),
                    "threads": threads,
                    "qfuse_ms_median": q_med, "qfuse_ms_min": q_min,
                    "pytorch_ms_median": round(t_med, 3), "pytorch_ms_min": round(t_min, 3),
                    "ratio_median": round(q_med / t_med, 3),
                    "max_rel_err": float(f"{err:.2e}"),
                    "qfuse_run_wall_s": round(wall, 1)}), flush=True)


def run_cuda(args, bin_dir, name, model, x, ptq, x_path, tmp):
    out_path = os.path.join(tmp, "y.npy")
    proc = subprocess.run(
        [os.path.join(bin_dir, "qfuse-run"), ptq, "--device=cuda", "--input",
         x_path, "--output", out_path, "--repeat", str(args.repeat)] +
        (["--kernel-profile"] if args.kernel_profile else []) +
        ([f"--lowering={args.lowering}"] if args.lowering else []),
        check=True, capture_output=True, text=True)
    wall = re.search(r"time: median (\S+) ms, min (\S+) ms", proc.stdout)
    kern = re.search(r"gpu kernels: median (\S+) ms, min (\S+) ms", proc.stdout)
    if args.kernel_profile:
        print(f"{name}: " + proc.stdout.split("kernel profile", 1)[-1],
              file=sys.stderr)
    t_med, t_min, g_med, ref = torch_cuda_ms(model, x, args.repeat)
    got = np.load(out_path)
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    print(json.dumps({
        "model": name, "input": "x".join(map(str, x.shape)), "device": "cuda",
        "gpu": torch.cuda.get_device_name(),
        "qfuse_kernels_ms_median": float(kern[1]),
        "qfuse_kernels_ms_min": float(kern[2]),
        "qfuse_call_ms_median": float(wall[1]),
        "pytorch_ms_median": round(t_med, 3), "pytorch_ms_min": round(t_min, 3),
        "pytorch_graph_ms_median": round(g_med, 3),
        "ratio_kernels_median": round(float(kern[1]) / t_med, 3),
        "ratio_kernels_vs_graph": round(float(kern[1]) / g_med, 3),
        "max_rel_err": float(f"{err:.2e}")}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
