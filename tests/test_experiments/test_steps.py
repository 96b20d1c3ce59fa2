"""grass_mm.experiments.steps: commands run, shown, recorded; what a finished run left behind."""

import json
import os
import os.path as osp
import sys

import pytest

from grass_mm.experiments import SweepError
from grass_mm.experiments.paths import entry_point, packaged_config
from grass_mm.experiments.steps import (
    Steps,
    finished_checkpoint,
    finished_metrics,
    last_checkpoint,
    logged_losses,
    step_env,
    tool_command,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOG = '12/03 12:20:10 - mmengine - INFO - '


def test_commands_use_the_packages_entry_points():
    """The runner runs grass_mm's own tools/train.py (the checkout's here, the installed copy from a wheel), with
    the grass_mm it imports, and hides the GPUs on --device cpu."""
    cmd = tool_command('train.py', 'a.py', '--work-dir', 'w')
    assert cmd[0] == sys.executable and cmd[2:] == ['a.py', '--work-dir', 'w']
    assert cmd[1] == osp.realpath(osp.join(REPO_ROOT, 'tools', 'train.py')) == entry_point('train.py')
    assert packaged_config('quickstart/fcn_r18_1xb4-150it_vts-128x128.py') == osp.realpath(
        osp.join(REPO_ROOT, 'configs', 'quickstart', 'fcn_r18_1xb4-150it_vts-128x128.py')
    )
    with pytest.raises(SweepError, match='no_such_tool.py'):
        tool_command('no_such_tool.py')
    env = step_env('cpu')
    assert env['CUDA_VISIBLE_DEVICES'] == '' and env['PYTHONPATH'].split(os.pathsep)[0] == REPO_ROOT
    assert 'CUDA_VISIBLE_DEVICES' not in step_env('cuda') or os.environ.get('CUDA_VISIBLE_DEVICES') is not None


def test_progress_keeps_eta_loss_and_metrics(tmp_path):
    steps = Steps(str(tmp_path), 'cpu', total=3)
    assert steps.progress(LOG + 'Iter(train) [ 2/10]  lr: 1.0e-02  eta: 0:00:05  time: 1.6  loss: 2.2412  x: 1') == (
        'Iter(train) [ 2/10]  lr: 1.0e-02  eta: 0:00:05 loss: 2.2412'
    )
    assert steps.progress(LOG + 'Iter(val) [1/1]    aAcc: 50.9  mIoU: 13.36  mAcc: 26.6') == (
        'Iter(val) [1/1]    aAcc: 50.9  mIoU: 13.36  mAcc: 26.6'
    )
    assert steps.progress(LOG + 'Saving checkpoint at 2 iterations') == 'Saving checkpoint at 2 iterations'
    assert steps.progress(LOG + 'Config:') is None and steps.progress('plain output') is None
    assert steps.eta(['pretrain']) is None
    steps.timed = {'pretrain': [10.0, 20.0], 'finetune': [4.0]}
    assert steps.eta(['pretrain', 'finetune', 'test']) == pytest.approx(15 + 4 + 34 / 3)


def test_run_records_shows_and_fails_in_one_message(tmp_path, capsys):
    steps = Steps(str(tmp_path), 'cpu', total=3)
    script = tmp_path / 'step.py'
    script.write_text(f'import os, sys\nprint({LOG!r} + "Saving checkpoint at 1 iterations")\nprint("noise")\n')
    steps.run('a step', [sys.executable, str(script), '--flag'], str(tmp_path / 'a' / 'stdout.log'), 'pretrain')
    steps.skip('a finished step')
    printed = capsys.readouterr().out
    assert '[1/3] a step' in printed and '    Saving checkpoint at 1 iterations' in printed and 'noise' not in printed
    assert '[2/3] a finished step: finished earlier, skipped' in printed
    assert (tmp_path / 'a' / 'stdout.log').read_text().endswith('noise\n')
    lines = (tmp_path / 'commands.sh').read_text().splitlines()
    assert lines[0] == '#!/usr/bin/env bash' and lines[-1] == f'python {script} --flag'
    assert list(steps.timed) == ['pretrain']
    script.write_text('import sys\nprint("the last words")\nsys.exit(3)\n')
    with pytest.raises(SweepError) as err:
        steps.run('a failing step', [sys.executable, str(script)], str(tmp_path / 'b' / 'stdout.log'))
    assert 'step "a failing step" failed (exit 3)' in str(err.value) and 'the last words' in str(err.value)
    assert str(tmp_path / 'b' / 'stdout.log') in str(err.value)


def test_finished_runs(tmp_path):
    wd = tmp_path / 'run'
    wd.mkdir()
    with pytest.raises(SweepError, match='no last_checkpoint file'):
        last_checkpoint(str(wd))
    assert finished_checkpoint(str(wd), 4) is None and finished_metrics(str(wd), 4) is None
    (wd / 'iter_4.pth').write_bytes(b'')
    (wd / 'last_checkpoint').write_text(str(wd / 'iter_4.pth'))
    assert last_checkpoint(str(wd)) == finished_checkpoint(str(wd), 4) == str(wd / 'iter_4.pth')
    assert finished_metrics(str(wd), 4) is None  # a checkpoint, no evaluation yet
    vis = wd / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [dict(loss=2.0, step=1), dict(loss=1.5, step=2), dict(aAcc=80.0, mIoU=60.0, mAcc=70.0, step=4)]
    (vis / 'scalars.json').write_text(''.join(json.dumps(x) + '\n' for x in lines))
    assert finished_metrics(str(wd), 4) == dict(mIoU=60.0, OA=80.0, mAcc=70.0)
    assert finished_metrics(str(wd), 5) is None and logged_losses(str(wd)) == [2.0, 1.5]
