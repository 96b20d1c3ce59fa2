"""The OpenMMLab entry points on the smoke configs (real Potsdam crop): train, test, resume, bad input."""

import glob
import math
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from ._tools import REPO_ROOT, run_tool

FCN = 'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py'
UPERNET = 'configs/smoke/upernet_r18_1xb2-4it_potsdam-128x128.py'
METRIC_RE = re.compile(r'aAcc: ([-\d.na]+)\s+mIoU: ([-\d.na]+)\s+mAcc: ([-\d.na]+)')


def _metrics(output):
    found = METRIC_RE.findall(output)
    assert found, 'no aAcc/mIoU/mAcc line in the output:\n' + output[-3000:]
    return [float(x) for x in found[-1]]


def _check(proc):
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def fcn_run(rs_tiles, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('fcn'))
    out = _check(run_tool(['tools/train.py', FCN, '--work-dir', work]))
    return work, out


def test_fcn_smoke_trains_and_evaluates(fcn_run):
    work, out = fcn_run
    assert osp.isfile(osp.join(work, 'iter_4.pth')) and osp.isfile(osp.join(work, 'iter_2.pth'))
    aacc, miou, macc = _metrics(out)
    assert all(math.isfinite(v) and 0 <= v <= 100 for v in (aacc, miou, macc))
    # the checkpoint written by a grass_mm run loads with plain weights_only=True
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=True, map_location='cpu')
    assert ckpt['meta']['iter'] == 4 and any(k.startswith('backbone.') for k in ckpt['state_dict'])


@pytest.fixture(scope='module')
def fcn_plain_test(fcn_run, tmp_path_factory):
    """The plain ``tools/test.py`` of the smoke checkpoint, pictures on; returns (output, picture folder)."""
    work, _ = fcn_run
    tmp = tmp_path_factory.mktemp('fcn_test')
    show = str(tmp / 'show')
    out = _check(
        run_tool(['tools/test.py', FCN, osp.join(work, 'iter_4.pth'), '--work-dir', str(tmp / 'w'), '--show-dir', show])
    )
    return out, show


def test_test_tool_writes_pictures(fcn_plain_test):
    out, show = fcn_plain_test
    aacc, miou, macc = _metrics(out)
    assert math.isfinite(miou) and math.isfinite(aacc) and math.isfinite(macc)
    pngs = glob.glob(osp.join(show, '**', '*.png'), recursive=True)
    assert pngs, f'no prediction picture under {show}'


def test_test_tool_tta_is_close_to_plain(fcn_run, fcn_plain_test, tmp_path):
    """``tools/test.py --tta`` (3 scales x flip, see configs/smoke/_base_/potsdam_crop.py) on the checkpoint of the
    smoke run: it runs mmseg's SegTTAModel on the TTA pipeline and scores within one mIoU point of the plain test."""
    work, _ = fcn_run
    out = _check(
        run_tool(['tools/test.py', FCN, osp.join(work, 'iter_4.pth'), '--work-dir', str(tmp_path / 'tta'), '--tta'])
    )
    plain, tta = _metrics(fcn_plain_test[0]), _metrics(out)
    assert 'do not match exactly' not in out  # the checkpoint loaded into the wrapped model
    ran = Config.fromfile(str(tmp_path / 'tta' / osp.basename(FCN)))  # the config the runner ran, as it dumped it
    assert ran.model.type == 'SegTTAModel' and ran.model.module.type == 'EncoderDecoder'
    assert ran.test_dataloader.dataset.pipeline[1].type == 'TestTimeAug'
    assert abs(tta[1] - plain[1]) <= 1.0, f'mIoU plain {plain[1]}, --tta {tta[1]}'


def test_upernet_smoke_trains_and_evaluates(rs_tiles, tmp_path):
    out = _check(run_tool(['tools/train.py', UPERNET, '--work-dir', str(tmp_path)]))
    assert all(math.isfinite(v) for v in _metrics(out))
    assert osp.isfile(tmp_path / 'iter_4.pth')


DETERMINISTIC_CHILD = """
_base_ = [{base!r}]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=False),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(decode_head=dict(dropout_ratio=0.0), auxiliary_head=dict(dropout_ratio=0.0))
train_cfg = dict(val_interval=100)
"""


def test_resume_matches_uninterrupted_run(rs_tiles, tmp_path):
    """Train 4 iters; separately resume from iter 2 to 4: same parameters and optimizer state."""
    cfg = tmp_path / 'fcn_deterministic.py'
    cfg.write_text(DETERMINISTIC_CHILD.format(base=osp.join(REPO_ROOT, FCN)))
    full, part = str(tmp_path / 'full'), str(tmp_path / 'part')
    _check(run_tool(['tools/train.py', str(cfg), '--work-dir', full]))
    out = _check(run_tool(['tools/train.py', str(cfg), '--work-dir', part, '--resume', osp.join(full, 'iter_2.pth')]))
    assert 'resumed' in out.lower() or 'Advance dataloader 2 steps' in out
    a = torch.load(osp.join(full, 'iter_4.pth'), weights_only=True)
    b = torch.load(osp.join(part, 'iter_4.pth'), weights_only=True)
    assert b['meta']['iter'] == 4
    assert not osp.exists(osp.join(part, 'iter_2.pth'))  # the resumed run started at iteration 2
    for k, v in a['state_dict'].items():
        if v.is_floating_point():
            torch.testing.assert_close(b['state_dict'][k], v, rtol=1e-4, atol=1e-5, msg=k)
    for pid, st in a['optimizer']['state'].items():
        torch.testing.assert_close(
            b['optimizer']['state'][pid]['momentum_buffer'], st['momentum_buffer'], rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize(
    'options,needle',
    [
        (['model.decode_head.type=FCNHeadTypo'], "'model.decode_head.type': 'FCNHeadTypo'"),
        (['train_dataloader.dataset.data_root=/nonexistent/potsdam'], "data_root': folder '/nonexistent/potsdam'"),
        (['load_from=/nonexistent/ckpt.pth'], "'load_from': checkpoint file '/nonexistent/ckpt.pth'"),
    ],
)
def test_bad_input_stops_with_one_line(tmp_path, options, needle):
    proc = run_tool(['tools/train.py', FCN, '--work-dir', str(tmp_path), '--cfg-options'] + options)
    assert proc.returncode == 2
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(err_lines) == 1 and err_lines[0].startswith('error: ') and needle in err_lines[0], proc.stderr
    assert not glob.glob(str(tmp_path / '*.pth'))  # nothing started


def test_missing_config_and_checkpoint_for_test_tool(tmp_path):
    proc = run_tool(['tools/train.py', 'configs/does_not_exist.py'])
    assert proc.returncode == 2 and "config file 'configs/does_not_exist.py' does not exist" in proc.stderr
    proc = run_tool(['tools/test.py', FCN, str(tmp_path / 'missing.pth')])
    assert proc.returncode == 2 and 'missing.pth' in proc.stderr and 'Traceback' not in proc.stderr


def test_dist_train_two_cpu_processes(cpu_dist_train, tmp_path):
    out = cpu_dist_train(FCN, tmp_path)
    assert re.search(r'(GPU number|world_size):?\s*2', out), out[-3000:]
    assert sorted(osp.basename(p) for p in glob.glob(str(tmp_path / '*.pth'))) == ['iter_2.pth', 'iter_4.pth']
    assert all(math.isfinite(v) for v in _metrics(out))
    # tools/dist_test.sh on the checkpoint: 2 ranks give the single-process evaluation
    ckpt = str(tmp_path / 'iter_4.pth')
    single = _metrics(_check(run_tool(['tools/test.py', FCN, ckpt, '--work-dir', str(tmp_path / 'test1')])))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(28500 + os.getpid() % 1000), PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        ['bash', 'tools/dist_test.sh', FCN, ckpt, '2', '--work-dir', str(tmp_path / 'test2')],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    dist = _metrics(_check(proc))
    assert dist == pytest.approx(single, abs=0.011)


def _mim_train(package, config, work_dir):
    """``mim train PACKAGE CONFIG`` on CPU, as a user would; returns the output."""
    mim = shutil.which('mim') or osp.join(osp.dirname(sys.executable), 'mim')
    if not osp.exists(mim):
        pytest.fail('openmim is part of the test environment (tools/install.sh) but `mim` was not found')
    env = dict(os.environ, PYTHONWARNINGS='ignore', PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    proc = subprocess.run(
        [mim, 'train', package, config, '--work-dir', str(work_dir), '--gpus', '0'],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_mim_train_mmseg(rs_tiles, tmp_path):
    out = _mim_train('mmseg', FCN, tmp_path)
    assert osp.isfile(tmp_path / 'iter_4.pth')
    assert all(math.isfinite(v) for v in _metrics(out))


def test_mim_train_mmpretrain_selfsup_smoke(rs_tiles, tmp_path):
    out = _mim_train('mmpretrain', 'configs/smoke/simclr_resnet18_1xb4-coslr-2it_tiles-rs-64px.py', tmp_path)
    losses = [float(x) for x in re.findall(r'Iter\(train\) \[\d/2\].*?loss: ([\d.]+)', out)]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), out[-3000:]
    ckpt = torch.load(tmp_path / 'iter_2.pth', weights_only=True)  # plain-data checkpoint
    assert any(k.startswith('backbone.') for k in ckpt['state_dict'])
