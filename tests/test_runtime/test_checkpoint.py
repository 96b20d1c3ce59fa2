"""Checkpoint loading on torch >= 2.6: stock and plain-data checkpoints load with weights_only=True and
the guarded allowlist; crafted and corrupt files end in one line naming the file."""

import functools
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.runner.checkpoint import load_from_local as mmengine_load_from_local

import grass_mm  # noqa: F401  (installs the loader)
from grass_mm.engine.hooks import PlainCheckpointHook
from grass_mm.runtime import CorruptCheckpointError, UntrustedCheckpointError, trust_checkpoint
from grass_mm.runtime.checkpoint import TRUST_ENV, _trusted, history_buffers_to_plain, plain_to_history_buffers


class Foreign:
    """A class outside the allowlist (stands for any crafted payload)."""

    def __init__(self):
        self.x = 1


class _Reduce:
    """Pickles as ``func(*args)``: how a crafted file calls things while it is unpickled."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _SwapStatistics:
    """A HistoryBuffer whose pickled state maps 'mean' to HistoryBuffer.max (class-wide on load)."""

    def __reduce__(self):
        state = {
            'max_length': 5,
            '_log_history': np.array([1.0]),
            '_count_history': np.array([1]),
            'statistics_methods': {'mean': HistoryBuffer.max},
        }
        return HistoryBuffer, (), state


@pytest.fixture(autouse=True)
def _clear_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    _trusted.clear()
    yield
    _trusted.clear()


def _stock_checkpoint(path):
    """What stock mmengine writes: the message hub's HistoryBuffers and numpy scalars pickled."""
    hub = MessageHub.get_instance('test_stock_ckpt')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('eta', np.float64(12.5))
    torch.save({'meta': {'iter': 2}, 'state_dict': {'w': torch.ones(2)}, 'message_hub': hub.state_dict()}, path)
    return path


def _one_line(err, path):
    msg = str(err.value)
    assert '\n' not in msg and path in msg, msg
    return msg


def test_history_buffer_roundtrip():
    buf = HistoryBuffer([1.0, 2.0, 4.0], [1, 1, 2], max_length=10)
    plain = history_buffers_to_plain({'loss': buf, 'other': 3})
    assert isinstance(plain['loss']['log_history'], list) and plain['other'] == 3
    back = plain_to_history_buffers(plain)['loss']
    assert isinstance(back, HistoryBuffer)
    np.testing.assert_array_equal(back.data[0], buf.data[0])
    np.testing.assert_array_equal(back.data[1], buf.data[1])
    assert back.max_length == 10 and back.mean() == buf.mean() and back.current() == 4.0


def test_stock_checkpoint_loads_without_opt_in(tmp_path):
    path = _stock_checkpoint(str(tmp_path / 'stock.pth'))
    # plain weights_only=True, as stock mmengine 0.10.7 does on torch >= 2.6
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path, weights_only=True)
    ckpt = _load_checkpoint(path)
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.mean() == 1.0 and buf.current() == 0.5
    assert ckpt['message_hub']['runtime_info']['eta'] == 12.5
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_stock_load_leaves_the_global_allowlist_as_it_was(tmp_path):
    path = _stock_checkpoint(str(tmp_path / 'stock.pth'))
    before = set(torch.serialization.get_safe_globals())
    _load_checkpoint(path)
    assert set(torch.serialization.get_safe_globals()) == before
    with pytest.raises(Exception, match='HistoryBuffer'):  # nothing stayed allowlisted
        torch.load(path, weights_only=True)
    # a global the user allowlisted before is still there afterwards (not removed on exit)
    with torch.serialization.safe_globals([np.ndarray]):
        inside = set(torch.serialization.get_safe_globals())
        _load_checkpoint(path)
        assert set(torch.serialization.get_safe_globals()) == inside and np.ndarray in inside


def test_plain_checkpoint_loads_without_grass_mm_and_with_it(tmp_path):
    """Why PlainCheckpointHook stays: its files load with mmengine 0.10's own loader on torch >= 2.6
    (a plain mmseg / mmpretrain environment), which refuses stock checkpoints; the grass_mm loader
    (like earlier grass_mm versions wrote them) rebuilds the HistoryBuffers."""
    hub = MessageHub.get_instance('test_plain_ckpt')
    hub.update_scalar('train/loss', 2.0)
    hub.update_info('eta', np.float64(12.5))
    ckpt = {'meta': {'iter': 1}, 'state_dict': {'w': torch.zeros(3)}, 'message_hub': hub.state_dict()}
    PlainCheckpointHook().before_save_checkpoint(None, ckpt)
    path = str(tmp_path / 'plain.pth')
    torch.save(ckpt, path)
    raw = mmengine_load_from_local(path, map_location='cpu')  # mmengine's loader, not grass_mm's
    assert raw['message_hub']['runtime_info']['eta'] == 12.5
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        mmengine_load_from_local(_stock_checkpoint(str(tmp_path / 'stock.pth')), map_location='cpu')
    loaded = _load_checkpoint(path)
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.current() == 2.0


def test_numpy_types_under_numpy1_and_numpy2_names(tmp_path):
    path = str(tmp_path / 'np.pth')
    torch.save({'state_dict': {}, 'arr': np.arange(4, dtype=np.float32), 'scalar': np.int64(3)}, path)
    ckpt = _load_checkpoint(path)
    np.testing.assert_array_equal(ckpt['arr'], np.arange(4, dtype=np.float32))
    assert int(ckpt['scalar']) == 3
    # numpy 1.x writes 'numpy.core.multiarray' (legacy format: the name can be edited in place)
    legacy = str(tmp_path / 'np1.pth')
    torch.save({'arr': np.arange(3)}, legacy, _use_new_zipfile_serialization=False)
    data = open(legacy, 'rb').read()
    assert b'numpy._core.multiarray' in data
    open(legacy, 'wb').write(data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    np.testing.assert_array_equal(_load_checkpoint(legacy)['arr'], np.arange(3))


MARKER = 'grass_mm_crafted_ckpt_ran'
CRAFTED = {
    'getattr_init': (
        lambda d: _Reduce(getattr, HistoryBuffer, '__init__'),
        "builtins.getattr(mmengine.logging.history_buffer.HistoryBuffer, '__init__')",
    ),
    'getattr_register': (
        lambda d: _Reduce(getattr, HistoryBuffer, 'register_statistics'),
        "builtins.getattr(mmengine.logging.history_buffer.HistoryBuffer, 'register_statistics')",
    ),
    'getattr_instance': (
        lambda d: _Reduce(getattr, HistoryBuffer([1.0], [1]), 'mean'),
        'builtins.getattr(a mmengine.logging.history_buffer.HistoryBuffer object, ',
    ),
    'getattr_tensor': (lambda d: _Reduce(getattr, torch.ones(2), 'add_'), 'builtins.getattr(a torch.Tensor object, '),
    'eval': (lambda d: _Reduce(eval, f"open({osp.join(d, MARKER)!r}, 'w')"), 'the global builtins.eval'),
    'os_system': (
        lambda d: _Reduce(os.system, f'touch {osp.join(d, MARKER)}'),
        f'the global {os.system.__module__}.system',
    ),
    'class': (lambda d: Foreign(), 'test_checkpoint.Foreign'),
    'callable': (lambda d: functools.partial(os.getcwd), 'functools.partial'),
    'call_statistics_method': (lambda d: _Reduce(HistoryBuffer.mean, 5), 'a call to <function HistoryBuffer.mean'),
    'swap_statistics_method': (lambda d: _SwapStatistics(), "statistics method 'mean' that is not mmengine's own"),
}


@pytest.mark.parametrize('case', sorted(CRAFTED))
def test_crafted_checkpoint_refused_with_one_line(tmp_path, case):
    make, needle = CRAFTED[case]
    path = str(tmp_path / f'{case}.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': {'x': make(str(tmp_path))}}, path)
    methods = dict(HistoryBuffer._statistics_methods)
    with pytest.raises(UntrustedCheckpointError) as err:
        _load_checkpoint(path)
    msg = _one_line(err, path)
    assert needle in msg and '--trust-checkpoint' in msg and TRUST_ENV in msg, msg
    assert not osp.exists(tmp_path / MARKER)
    assert HistoryBuffer._statistics_methods == methods  # the class-wide table is untouched


def test_trust_opt_in_for_files_that_need_full_unpickling(tmp_path, monkeypatch):
    path = str(tmp_path / 'foreign.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': {'x': Foreign()}}, path)
    with pytest.raises(UntrustedCheckpointError):
        _load_checkpoint(path)
    trust_checkpoint(path)
    assert isinstance(_load_checkpoint(path)['meta']['x'], Foreign)
    _trusted.clear()
    monkeypatch.setenv(TRUST_ENV, path)
    assert isinstance(_load_checkpoint(path)['meta']['x'], Foreign)


def _corrupt_files(tmp_path):
    good = _stock_checkpoint(str(tmp_path / 'good.pth'))
    data = open(good, 'rb').read()
    files = {'truncated': data[: len(data) // 2], 'garbage': os.urandom(4096), 'empty': b''}
    torch.save({'w': torch.ones(3)}, str(tmp_path / 'legacy.pth'), _use_new_zipfile_serialization=False)
    legacy = open(tmp_path / 'legacy.pth', 'rb').read()
    files['legacy_truncated'] = legacy[: len(legacy) // 2]
    for name, content in files.items():
        (tmp_path / f'{name}.pth').write_bytes(content)
    return {name: str(tmp_path / f'{name}.pth') for name in files}


def test_corrupt_checkpoints_end_in_one_line(tmp_path):
    for name, path in _corrupt_files(tmp_path).items():
        for trusted in (False, True):
            _trusted.clear()
            if trusted:
                trust_checkpoint(path)
            with pytest.raises(CorruptCheckpointError) as err:
                _load_checkpoint(path)
            assert 'incomplete or corrupt' in _one_line(err, path), name


def test_missing_checkpoint_is_clear(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(missing)
