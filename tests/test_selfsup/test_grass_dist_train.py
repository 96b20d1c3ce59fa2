"""`tools/dist_train.sh` with 2 CPU processes (gloo) runs GraSS warm-up and gradient-guided steps."""

import glob
import math
import os.path as osp
import re

import torch

CONFIG = 'configs/smoke/grass_resnet18_1xb4-coslr-3it_tiles-rs-64px.py'


def test_dist_train_grass_two_cpu_processes(cpu_dist_train, tmp_path):
    out = cpu_dist_train(CONFIG, tmp_path, port_base=30500)
    # iteration 1 is the SimCLR warm-up, iterations 2-3 are gradient-guided steps
    assert re.search(r'GraSSWarmupHook: gradient-guided sampling from epoch \d+, iter 1', out), out[-3000:]
    losses = [float(x) for x in re.findall(r'Iter\(train\) \[\d/3\].*?loss: ([\d.]+)', out)]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses), out[-3000:]
    assert [osp.basename(p) for p in glob.glob(str(tmp_path / '*.pth'))] == ['iter_3.pth']
    ckpt = torch.load(tmp_path / 'iter_3.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 3
