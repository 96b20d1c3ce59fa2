"""tools/gpu_check.sh: without a CUDA device it says so in one line and exits 2 (nothing checked)."""

import os
import subprocess
import sys


def test_gpu_check_without_cuda_says_so_and_exits_2(repo_root):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', PYTHON=sys.executable)
    env.pop('GPU_CHECK_DEVICE', None)
    out = subprocess.run(
        ['bash', os.path.join(repo_root, 'tools', 'gpu_check.sh')], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 2, out.stdout + out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('gpu_check: no CUDA device'), out.stdout
    assert 'nothing checked' in lines[0]
