"""Checkpoints written by stock OpenMMLab runs (no PlainCheckpointHook) through grass_mm's loader:
resume to the same parameters, corrupt files on every load path, `mim train mmseg --resume`."""

import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys
import uuid

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import load_from_local as mmengine_load_from_local

import grass_mm  # noqa: F401  (installs the loader, as `custom_imports=['grass_mm']` does)
from grass_mm.runtime import CorruptCheckpointError, UntrustedCheckpointError

from ._tools import REPO_ROOT, run_tool


class _ToyData(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        g = torch.Generator().manual_seed(idx)
        return dict(inputs=torch.randn(4, generator=g), data_samples=torch.randn(2, generator=g))


class _ToyModel(BaseModel):
    """(B, 4) -> (B, 2); mode='loss' gives the MSE to ``data_samples`` (B, 2)."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.lin = torch.nn.Linear(4, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.lin(inputs)
        return dict(loss=torch.nn.functional.mse_loss(out, data_samples)) if mode == 'loss' else out


def _runner(work_dir, max_iters=4, **kwargs):
    """A plain mmengine Runner: stock CheckpointHook, no PlainCheckpointHook."""
    return Runner(
        model=_ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'stock_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=_ToyData(),
            batch_size=2,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
            collate_fn=dict(type='default_collate'),
        ),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1),
        ),
        randomness=dict(seed=0),
        log_level='WARNING',
        default_scope='mmengine',
        **kwargs,
    )


@pytest.fixture(scope='module')
def stock_run(tmp_path_factory):
    """Uninterrupted 4-iteration stock run: (work_dir, final parameters, loss history)."""
    work = tmp_path_factory.mktemp('stock_full')
    runner = _runner(work)
    runner.train()
    params = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
    return work, params, runner.message_hub.get_scalar('train/loss').data[0].copy()


def test_stock_runner_checkpoint_resumes_to_the_same_parameters(stock_run, tmp_path):
    work, params, losses = stock_run
    ckpt = str(work / 'iter_2.pth')
    with pytest.raises(pickle.UnpicklingError):  # stock mmengine 0.10.7's own loader on torch >= 2.6
        mmengine_load_from_local(ckpt, map_location='cpu')
    runner = _runner(tmp_path, resume=True, load_from=ckpt)
    runner.train()
    assert runner.iter == 4 and not osp.exists(tmp_path / 'iter_2.pth') and osp.isfile(tmp_path / 'iter_4.pth')
    for key, value in params.items():
        torch.testing.assert_close(runner.model.state_dict()[key], value, msg=key)
    # the message hub came back from the checkpoint: the loss history of iterations 1-2, then 3-4
    torch.testing.assert_close(
        torch.as_tensor(runner.message_hub.get_scalar('train/loss').data[0]), torch.as_tensor(losses)
    )


def _bad_files(work, tmp_path):
    data = open(work / 'iter_4.pth', 'rb').read()
    (tmp_path / 'truncated.pth').write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / 'garbage.pth').write_bytes(os.urandom(2048))
    return {'truncated': str(tmp_path / 'truncated.pth'), 'garbage': str(tmp_path / 'garbage.pth')}


def _pretrained(path):
    model = _ToyModel(init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    return model


def _load_or_resume(runner):
    runner.load_or_resume()  # what Runner.train() / Runner.test() call
    return runner.model


LOAD_PATHS = {
    'load_from': lambda tmp, path: _load_or_resume(_runner(tmp, load_from=path)),
    'resume': lambda tmp, path: _load_or_resume(_runner(tmp, resume=True, load_from=path)),
    'init_cfg_pretrained': lambda tmp, path: _pretrained(path),
}


@pytest.mark.parametrize('load_path', sorted(LOAD_PATHS))
def test_every_load_path(stock_run, tmp_path, load_path):
    """A stock checkpoint loads; truncated and garbage files end in one line naming the file."""
    work, params, _ = stock_run
    load = LOAD_PATHS[load_path]
    model = load(tmp_path / 'ok', str(work / 'iter_4.pth'))
    torch.testing.assert_close(model.lin.weight, params['lin.weight'])
    for kind, path in _bad_files(work, tmp_path).items():
        with pytest.raises(CorruptCheckpointError) as err:
            load(tmp_path / kind, path)
        msg = str(err.value)
        assert '\n' not in msg and path in msg and 'incomplete or corrupt' in msg, (kind, msg)
    crafted = str(tmp_path / 'crafted.pth')
    torch.save({'state_dict': params, 'meta': {'x': _ToyData()}}, crafted)
    with pytest.raises(UntrustedCheckpointError, match='_ToyData'):
        load(tmp_path / 'crafted', crafted)


def test_test_tool_truncated_checkpoint_one_line(rs_tiles, stock_run, tmp_path):
    path = _bad_files(stock_run[0], tmp_path)['truncated']
    proc = run_tool(
        ['tools/test.py', 'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py', path, '--work-dir', str(tmp_path / 'w')]
    )
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert len(err_lines) == 1 and err_lines[0].startswith('error: '), proc.stderr[-3000:]
    assert path in err_lines[0] and 'incomplete or corrupt' in err_lines[0]


# A user's own mmseg config: mmseg's bases, and grass_mm imported for one of its modules
# (ContrastEncoderDecoder). mmseg's train.py (what `mim train mmseg` runs) adds no PlainCheckpointHook.
MIM_USER_CONFIG = """
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py', {crop!r}, 'mmseg::_base_/default_runtime.py',
          'mmseg::_base_/schedules/schedule_20k.py']
custom_imports = dict(imports=['grass_mm'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='ContrastEncoderDecoder',
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,
    backbone=dict(depth=18, stem_channels=16, base_channels=16, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(in_channels=128, channels=16, num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, num_classes=6, norm_cfg=norm_cfg))
train_cfg = dict(max_iters=1, val_interval=100)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
"""


def _mim(args):
    mim = shutil.which('mim') or osp.join(osp.dirname(sys.executable), 'mim')
    if not osp.exists(mim):
        pytest.fail('openmim is part of the test environment (tools/install.sh) but `mim` was not found')
    env = dict(os.environ, PYTHONWARNINGS='ignore', PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    proc = subprocess.run([mim] + args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_mim_train_mmseg_user_config_resumes(rs_tiles, tmp_path):
    cfg = tmp_path / 'my_fcn.py'
    cfg.write_text(MIM_USER_CONFIG.format(crop=osp.join(REPO_ROOT, 'configs/smoke/_base_/potsdam_crop.py')))
    work = tmp_path / 'work'
    _mim(['train', 'mmseg', str(cfg), '--work-dir', str(work), '--gpus', '0'])
    with pytest.raises(pickle.UnpicklingError):  # a stock checkpoint: HistoryBuffer & co. pickled
        mmengine_load_from_local(str(work / 'iter_1.pth'), map_location='cpu')
    out = _mim(
        [
            'train',
            'mmseg',
            str(cfg),
            '--work-dir',
            str(work),
            '--gpus',
            '0',
            '--resume',
            '--cfg-options',
            'train_cfg.max_iters=2',
        ]
    )
    assert 'resumed epoch: 0, iter: 1' in out, out[-3000:]
    assert osp.isfile(work / 'iter_2.pth')
