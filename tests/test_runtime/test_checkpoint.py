"""Checkpoints on torch >= 2.6: plain-data grass_mm checkpoints, refusal of pickled objects, opt-in."""
import functools
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

import grass_mm  # noqa: F401
from grass_mm.runtime import UntrustedCheckpointError, trust_checkpoint
from grass_mm.runtime.checkpoint import (TRUST_ENV, _trusted, history_buffers_to_plain, plain_to_history_buffers)


class Foreign:
    """Any class outside the allowlist (stands for a crafted payload)."""

    def __init__(self):
        self.x = 1


@pytest.fixture(autouse=True)
def _clear_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    _trusted.clear()
    yield
    _trusted.clear()


def _stock_mmengine_checkpoint(path):
    hub = MessageHub.get_instance('test_stock_ckpt')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    torch.save({'meta': {'iter': 2}, 'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict()}, path)


def test_history_buffer_roundtrip():
    buf = HistoryBuffer([1.0, 2.0, 4.0], [1, 1, 2], max_length=10)
    plain = history_buffers_to_plain({'loss': buf, 'other': 3})
    assert isinstance(plain['loss']['log_history'], list) and plain['other'] == 3
    back = plain_to_history_buffers(plain)['loss']
    assert isinstance(back, HistoryBuffer)
    np.testing.assert_array_equal(back.data[0], buf.data[0])
    np.testing.assert_array_equal(back.data[1], buf.data[1])
    assert back.max_length == 10 and back.mean() == buf.mean() and back.current() == 4.0


def test_plain_checkpoint_loads_with_weights_only(tmp_path):
    """What PlainCheckpointHook writes loads with plain torch.load(weights_only=True)."""
    from grass_mm.runtime import PlainCheckpointHook
    hub = MessageHub.get_instance('test_plain_ckpt')
    hub.update_scalar('train/loss', 2.0)
    hub.update_info('eta', np.float64(12.5))
    ckpt = {'meta': {'iter': 1}, 'state_dict': {'w': torch.zeros(3)}, 'message_hub': hub.state_dict()}
    PlainCheckpointHook().before_save_checkpoint(None, ckpt)
    path = tmp_path / 'plain.pth'
    torch.save(ckpt, path)
    loaded = torch.load(path, weights_only=True)
    PlainCheckpointHook().after_load_checkpoint(None, loaded)
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 2.0
    assert loaded['message_hub']['runtime_info']['eta'] == 12.5


def test_numpy_plain_types_are_allowed(tmp_path):
    path = tmp_path / 'np.pth'
    torch.save({'state_dict': {}, 'arr': np.arange(4, dtype=np.float32), 'scalar': np.int64(3)}, path)
    ckpt = _load_checkpoint(str(path))
    np.testing.assert_array_equal(ckpt['arr'], np.arange(4, dtype=np.float32))
    assert int(ckpt['scalar']) == 3


@pytest.mark.parametrize('payload', ['foreign', 'callable'])
def test_foreign_pickled_object_refused_then_opt_in(tmp_path, payload):
    path = str(tmp_path / 'crafted.pth')
    obj = Foreign() if payload == 'foreign' else functools.partial(os.getcwd)
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': {'x': obj}}, path)
    with pytest.raises(UntrustedCheckpointError) as err:
        _load_checkpoint(path)
    msg = str(err.value)
    assert path in msg and '--trust-checkpoint' in msg and TRUST_ENV in msg
    trust_checkpoint(path)
    ckpt = _load_checkpoint(path)
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(1))


def test_stock_mmengine_checkpoint_refused_then_env_opt_in(tmp_path, monkeypatch):
    path = str(tmp_path / 'stock.pth')
    _stock_mmengine_checkpoint(path)
    with pytest.raises(UntrustedCheckpointError, match='stock.pth'):
        _load_checkpoint(path)
    monkeypatch.setenv(TRUST_ENV, path)
    ckpt = _load_checkpoint(path)
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)


def test_missing_checkpoint_is_clear(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(missing)


def test_pretrained_init_cfg_goes_through_safe_loader(tmp_path):
    """init_cfg=dict(type='Pretrained') uses mmengine's loader, hence the safe one."""
    from mmengine.model import BaseModule

    class Tiny(BaseModule):

        def __init__(self, init_cfg=None):
            super().__init__(init_cfg)
            self.lin = torch.nn.Linear(2, 2)

    src = Tiny()
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}}, good)
    dst = Tiny(init_cfg=dict(type='Pretrained', checkpoint=good, prefix='backbone.'))
    dst.init_weights()
    assert torch.equal(dst.lin.weight, src.lin.weight)
    bad = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': src.state_dict(), 'extra': Foreign()}, bad)
    with pytest.raises(UntrustedCheckpointError):
        Tiny(init_cfg=dict(type='Pretrained', checkpoint=bad)).init_weights()
    assert osp.isfile(bad)  # nothing the user wrote is touched
