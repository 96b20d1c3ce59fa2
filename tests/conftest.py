"""Shared test fixtures.

Real remote-sensing data lives in ``../shared/data`` beside the repository (see its README).
Tests that need it use the ``shared_data`` fixture, which skips with a reason when it is absent.
"""

import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = os.environ.get('GRASS_SHARED_DATA', osp.join(osp.dirname(REPO_ROOT), 'shared', 'data'))


def _need(path):
    if not osp.isdir(path):
        pytest.skip(f'real data not available: {path} is absent (set GRASS_SHARED_DATA)')
    return path


@pytest.fixture(scope='session')
def shared_data():
    """Root of ``../shared/data``; skips the test when absent."""
    return _need(SHARED_DATA)


@pytest.fixture(scope='session')
def rs_tiles(shared_data):
    """``mmseg_rs_tiles`` root (Potsdam, Vaihingen, LoveDA crops in mmseg layout)."""
    return _need(osp.join(shared_data, 'mmseg_rs_tiles'))


@pytest.fixture(scope='session')
def dubai_root(shared_data):
    """``dubai_aerial`` root (Kaggle layout, colour masks)."""
    return _need(osp.join(shared_data, 'dubai_aerial'))


@pytest.fixture
def repo_root():
    return REPO_ROOT


@pytest.fixture
def cpu_dist_train(rs_tiles):
    """Run ``tools/dist_train.sh CONFIG 2 --work-dir DIR`` on CPU (gloo); returns the checked output.

    Skips on machines with a GPU (this checks the gloo path) and fails with the output's tail when
    the launch does not exit 0.
    """
    import subprocess
    import sys

    import torch

    if torch.cuda.is_available():
        pytest.skip('checks the gloo path for machines without a GPU')

    def run(config, work_dir, port_base=29500):
        env = dict(os.environ, PYTHON=sys.executable, PORT=str(port_base + os.getpid() % 1000), PYTHONWARNINGS='ignore')
        proc = subprocess.run(
            ['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(work_dir)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-5000:]
        assert 'Distributed training: True' in out
        return out

    return run
