"""`tools/dist_train.sh` with 2 CPU processes (gloo) runs GraSS warm-up and gradient-guided steps."""
import glob
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/smoke/grass_r18_tiles_smoke.py'


def test_dist_train_grass_two_cpu_processes(rs_tiles, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('checks the gloo path for machines without a GPU')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(30500 + os.getpid() % 1000), PYTHONWARNINGS='ignore')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', str(tmp_path)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'Distributed training: True' in out
    # iteration 1 is the SimCLR warm-up, iterations 2-3 are gradient-guided steps
    assert re.search(r'GraSSWarmupHook: gradient-guided sampling from epoch \d+, iter 1', out), out[-3000:]
    losses = [float(x) for x in re.findall(r'Iter\(train\) \[\d/3\].*?loss: ([\d.]+)', out)]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses), out[-3000:]
    assert [osp.basename(p) for p in glob.glob(str(tmp_path / '*.pth'))] == ['iter_3.pth']
    ckpt = torch.load(tmp_path / 'iter_3.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 3
