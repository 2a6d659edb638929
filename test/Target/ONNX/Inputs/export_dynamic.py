"""Exports a conv + BN + relu + linear model with a dynamic batch dimension
('batch') to DIR/dyn.onnx, with an input of batch 3 and PyTorch's output."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

out = sys.argv[1]
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                  nn.Flatten(), nn.Linear(8 * 6 * 6, 4)).eval()
with torch.no_grad():
    m[1].running_mean.uniform_(-0.5, 0.5)
    m[1].running_var.uniform_(0.5, 1.5)
x = torch.randn(3, 3, 6, 6)
torch.onnx.export(m, x, os.path.join(out, "dyn.onnx"), input_names=["x"],
                  dynamic_axes={"x": {0: "batch"}},
                  training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False, opset_version=13)
np.save(os.path.join(out, "x.npy"), x.numpy())
with torch.no_grad():
    np.save(os.path.join(out, "ref.npy"), m(x).numpy())
