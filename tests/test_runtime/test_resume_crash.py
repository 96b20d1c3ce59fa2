"""A CPU training run killed with SIGKILL, at a random iteration and while it writes a checkpoint,
then ``tools/train.py --resume``: it finishes from the last complete checkpoint, with the parameters of
an uninterrupted run (deterministic mode), and no complete checkpoint is lost or rewritten.

One end-to-end scenario (4 short runs of the FCN-R18 smoke config, 6 iterations at 128 px, checkpoints
every 2 with ``max_keep_ckpts=1`` and :class:`AtomicCheckpointHook`): the uninterrupted reference,
a run killed while ``iter_4.pth`` is being written (a test backend slows the byte writes), its resume
killed at a random iteration, and the final resume.
"""

import hashlib
import os
import os.path as osp
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from ._tools import REPO_ROOT

FCN = osp.join(REPO_ROOT, 'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py')
CHILD = """
_base_ = [{base!r}]
custom_imports = dict(imports=['grass_mm', '_slow_backend'], allow_failed_imports=False)
randomness = dict(seed=0, deterministic=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=False),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(decode_head=dict(dropout_ratio=0.0), auxiliary_head=dict(dropout_ratio=0.0))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=6, by_epoch=False)]
train_cfg = dict(max_iters=6, val_interval=100)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(
    checkpoint=dict(_delete_=True, type='AtomicCheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=1,
                    backend_args=dict(backend='slow_atomic_local', delay=0.0, fsync=False)))
"""
ITER_RE = re.compile(r'Iter\(train\) \[\s*(\d+)/6\]')


def _env():
    return dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        PYTHONWARNINGS='ignore',
        PYTHONPATH=os.pathsep.join([osp.dirname(osp.abspath(__file__)), os.environ.get('PYTHONPATH', '')]),
    )


def _train(cfg, work, *extra, kill_when=None, timeout=300):
    """Run tools/train.py; with ``kill_when(log_text)`` SIGKILL it as soon as that returns True."""
    log_path = osp.join(osp.dirname(work), osp.basename(work) + f'.{time.monotonic_ns()}.log')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            [sys.executable, 'tools/train.py', cfg, '--work-dir', work] + list(extra),
            cwd=REPO_ROOT,
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        start = time.monotonic()
        while proc.poll() is None:
            if kill_when is not None and kill_when(open(log_path).read()):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                pytest.fail(f'train.py did not finish in {timeout}s:\n' + open(log_path).read()[-3000:])
            time.sleep(0.005)
    return proc.returncode, open(log_path).read()


def _sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _last(work):
    with open(osp.join(work, 'last_checkpoint')) as f:
        return osp.basename(f.read().strip())


def _ckpts(work):
    return sorted(n for n in os.listdir(work) if n.endswith('.pth'))


def test_sigkill_during_write_and_at_random_iteration_then_resume(rs_tiles, tmp_path):
    cfg = tmp_path / 'fcn_crash.py'
    cfg.write_text(CHILD.format(base=FCN))
    cfg = str(cfg)
    ref, work = str(tmp_path / 'ref'), str(tmp_path / 'crash')

    rc, out = _train(cfg, ref)
    assert rc == 0, out[-4000:]
    assert _ckpts(ref) == ['iter_6.pth']  # max_keep_ckpts=1: older ones removed after the new one is written

    # 1. killed while iter_4.pth is being written (byte writes slowed down): iter_2.pth stays complete
    part = osp.join(work, 'iter_4.pth.part')
    rc, out = _train(
        cfg,
        work,
        '--cfg-options',
        'default_hooks.checkpoint.backend_args.delay=0.05',
        'default_hooks.checkpoint.backend_args.chunk=8388608',
        kill_when=lambda _: osp.exists(part) and osp.getsize(part) > 0,
    )
    assert rc == -signal.SIGKILL, out[-4000:]
    assert osp.exists(part) and _ckpts(work) == ['iter_2.pth'] and _last(work) == 'iter_2.pth', os.listdir(work)
    kept = _sha(osp.join(work, 'iter_2.pth'))
    assert torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)['meta']['iter'] == 2

    # 2. --resume, killed at a random iteration after the resume point
    kill_at = random.randint(3, 5)
    rc, out = _train(
        cfg, work, '--resume', kill_when=lambda text: any(int(k) >= kill_at for k in ITER_RE.findall(text))
    )
    assert rc == -signal.SIGKILL, f'kill_at={kill_at}\n' + out[-4000:]
    assert 'resumed' in out.lower() and 'iter_2.pth' in out, out[-4000:]
    assert not osp.exists(part)  # the partial file of the killed write is cleaned up
    last = _last(work)
    assert last in ('iter_2.pth', 'iter_4.pth') and _ckpts(work) == [last], (kill_at, os.listdir(work))
    if last == 'iter_2.pth':
        assert _sha(osp.join(work, last)) == kept  # never rewritten

    # 3. --resume again: finishes from the last complete checkpoint
    rc, out = _train(cfg, work, '--resume')
    assert rc == 0, f'kill_at={kill_at}\n' + out[-4000:]
    assert last in out and [int(k) for k in ITER_RE.findall(out)][0] == int(last[5:-4]) + 1, out[-3000:]
    assert _ckpts(work) == ['iter_6.pth'] and _last(work) == 'iter_6.pth'
    a = torch.load(osp.join(ref, 'iter_6.pth'), weights_only=True)
    b = torch.load(osp.join(work, 'iter_6.pth'), weights_only=True)
    assert b['meta']['iter'] == 6
    for k, v in a['state_dict'].items():
        assert torch.equal(b['state_dict'][k], v), (k, kill_at)
