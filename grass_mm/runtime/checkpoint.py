"""Checkpoint loading that keeps ``torch.load(weights_only=True)`` and needs no opt-in.

torch >= 2.6 loads checkpoints with ``weights_only=True``: only tensors and plain containers and
scalars are unpickled. A stock mmengine checkpoint also pickles the message hub's
:class:`~mmengine.logging.HistoryBuffer` objects (with numpy arrays, dtypes and scalars inside),
and each buffer's statistics methods as ``builtins.getattr(HistoryBuffer, 'mean')`` (pickle
protocol 2 stores methods that way). Allowlisting the real ``getattr`` would let a crafted file
fetch any attribute of any object; upstream mmengine instead switched to ``weights_only=False``,
i.e. it unpickles anything. grass_mm does neither:

* :func:`load_from_local` replaces mmengine's loader for local paths, hence ``load_from``,
  ``--resume``, ``init_cfg=dict(type='Pretrained')``, ``tools/test.py``, ``mim train/test`` and a
  plain ``Runner`` of any config that imports grass_mm. It calls
  ``torch.load(..., weights_only=True)`` inside :func:`torch.serialization.safe_globals` (a context
  manager: the process-wide allowlist is left as it was) with :data:`CHECKPOINT_SAFE_GLOBALS`:
  numpy arrays / dtypes / scalars, ``HistoryBuffer``, and ``builtins.getattr`` bound to
  :func:`history_buffer_getattr`, which returns only the statistics methods
  (:data:`STATISTICS_METHODS`) of a ``HistoryBuffer`` and refuses every other object and name.
  Stock mmengine / mmseg / mmpretrain checkpoints and grass_mm's own load without opt-in.
* Anything else (other classes or functions, ``eval``, ``os.system``, reduce tricks, a swapped
  statistics method) is refused with :class:`UntrustedCheckpointError`, and a truncated or
  garbled file with :class:`CorruptCheckpointError`; both messages are one line naming the file.
  Only for a file that truly needs full unpickling (``weights_only=False``) and that you trust:
  ``--trust-checkpoint PATH`` (``tools/train.py``, ``tools/test.py``), a
  ``trusted_checkpoints = [PATH]`` config key, ``GRASS_MM_TRUSTED_CHECKPOINTS=PATH[:PATH...]`` or
  :func:`trust_checkpoint`.

:class:`~grass_mm.engine.hooks.PlainCheckpointHook` (in every grass_mm runtime config, added by ``tools/train.py``)
stores the message hub as plain lists, so grass_mm checkpoints also load where grass_mm is not
installed (plain mmseg / mmpretrain with mmengine 0.10 on torch >= 2.6, bare ``torch.load``). The
loader turns those lists back into ``HistoryBuffer`` objects.
"""

import os
import os.path as osp
import pickle
import re
import struct
import types
from typing import Iterable, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

TRUST_ENV = 'GRASS_MM_TRUSTED_CHECKPOINTS'
STATISTICS_METHODS = ('current', 'max', 'mean', 'min')
_BUFFER_TAG = '__grass_mm_history_buffer__'
_trusted = set()


class CheckpointError(RuntimeError):
    """A checkpoint cannot be loaded; the message is one line that names the file."""


class UntrustedCheckpointError(CheckpointError):
    """A checkpoint pickles objects outside the allowlist (:data:`CHECKPOINT_SAFE_GLOBALS`)."""


class CorruptCheckpointError(CheckpointError):
    """A checkpoint file is truncated or is not a PyTorch checkpoint at all."""


class _Refused(Exception):
    """Raised while unpickling by the guards. Not an ``UnpicklingError``, so torch passes it on."""


# ---------------------------------------------------------------- trust list (full unpickling)
def _key(path: str) -> str:
    return osp.realpath(osp.expanduser(path))


def trust_checkpoint(paths: Union[str, Iterable[str]]) -> None:
    """Allow full unpickling (``weights_only=False``) of the given checkpoint files.

    Only for files that need it and that you created or otherwise trust: unpickling runs code.
    """
    for p in [paths] if isinstance(paths, str) else paths:
        _trusted.add(_key(p))


def is_trusted(path: str) -> bool:
    env = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    return _key(path) in _trusted or _key(path) in {_key(p) for p in env}


# ---------------------------------------------------------------- the allowlist
def _numpy_safe_globals() -> list:
    """Plain numpy types: arrays, dtypes (and their per-type classes), scalars.

    ``_reconstruct`` and ``scalar`` live in ``numpy._core`` on numpy 2 and ``numpy.core`` on
    numpy 1; files written under either name are accepted.
    """
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    safe = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    for fn in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            if fn.__module__ != module:
                safe.append((fn, f'{module}.{fn.__name__}'))
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return safe


def _describe(obj) -> str:
    """Short, side-effect-free description of an unpickled object for error messages."""
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return f'{obj.__module__}.{obj.__qualname__}'
    return f'a {type(obj).__module__}.{type(obj).__qualname__} object'


def history_buffer_getattr(obj, name, *default):
    """Stands in for ``builtins.getattr`` while a checkpoint is unpickled.

    Returns ``getattr(obj, name)`` only when ``obj`` is the ``HistoryBuffer`` class and ``name``
    is one of :data:`STATISTICS_METHODS` (how protocol 2 pickles ``HistoryBuffer.mean`` & co.);
    refuses every other object (instances included: their ``__dict__`` comes from the file) and name.
    """
    allowed = obj is HistoryBuffer and not default and isinstance(name, str) and name in STATISTICS_METHODS
    if not allowed:
        shown = repr(name)[:60] if isinstance(name, str) else _describe(name)
        raise _Refused(
            f'builtins.getattr({_describe(obj)}, {shown}) (getattr is only allowed for the '
            f"statistics methods {', '.join(STATISTICS_METHODS)} of mmengine's HistoryBuffer)"
        )
    return getattr(obj, name)


NUMPY_SAFE_GLOBALS = _numpy_safe_globals()
#: What :func:`safe_torch_load` adds to torch's own ``weights_only`` allowlist, for one load.
#: (``(callable, 'module.name')`` pairs need torch >= 2.6; older torch gets no aliases and no getattr.)
CHECKPOINT_SAFE_GLOBALS = NUMPY_SAFE_GLOBALS + [HistoryBuffer, (history_buffer_getattr, 'builtins.getattr')]
if digit_version(torch.__version__) < digit_version('2.6.0'):  # pragma: no cover - not installed here
    CHECKPOINT_SAFE_GLOBALS = [g for g in CHECKPOINT_SAFE_GLOBALS if not isinstance(g, tuple)]


def _check_statistics_methods(before: dict) -> None:
    """``HistoryBuffer.__setstate__`` merges a file's methods into the class-wide table.

    Refuse unless every entry is unchanged or the same-named default method (the caller
    restores the table).
    """
    for key, fn in HistoryBuffer._statistics_methods.items():
        if fn is not before.get(key) and not (key in STATISTICS_METHODS and fn is getattr(HistoryBuffer, key)):
            raise _Refused(
                f"a HistoryBuffer statistics method {str(key)[:60]!r} that is not mmengine's own ({_describe(fn)})"
            )


def _restore_statistics_methods(before: dict) -> None:
    table = HistoryBuffer._statistics_methods
    if table != before:
        table.clear()
        table.update(before)


# ---------------------------------------------------------------- classifying failures
_REFUSALS = (
    (re.compile(r'GLOBAL (\S+) was not an allowed global'), 'the global {}'),  # torch drops 'builtins.'
    (re.compile(r'unsupported GLOBAL (\S+) whose module \S+ is blocked'), 'the global {}'),
    (re.compile(r'reduce for unrecognized function (.+?)(?: which belongs to .*)?$', re.M), 'a call to {}'),
    (re.compile(r'Can only create new object .* but got (.+)$', re.M), 'an instance of {}'),
    (re.compile(r'Can only build .* but got (.+)$', re.M), 'the state of {}'),
    (re.compile(r'Can only append to lists, but got (.+)$', re.M), 'an append to {}'),
    (re.compile(r'Unsupported operand (\d+)'), 'pickle opcode {}'),
    (re.compile(r'(unsupported persistent id)'), 'an {}'),
)
_ANSI = re.compile(r'\x1b\[[0-9;]*m')


def _file_format(filename: str) -> Optional[str]:
    """``'zip'`` (torch >= 1.6), ``'pickle'`` (legacy torch.save) or None (neither)."""
    with open(filename, 'rb') as f:
        head = f.read(4)
    if head == b'PK\x03\x04':
        return 'zip'
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return 'pickle'
    return None


def _first_line(text: str, limit: int = 160) -> str:
    """First sentence of the first non-empty line, without terminal colour codes."""
    lines = [ln.strip() for ln in _ANSI.sub('', text).splitlines() if ln.strip()]
    return re.split(r'(?<=[a-z])\. ', lines[0])[0][:limit] if lines else ''


def _refused(filename: str, what: str) -> UntrustedCheckpointError:
    return UntrustedCheckpointError(
        f"refusing to load checkpoint '{filename}': it pickles {what}, which is outside grass_mm's allowlist "
        f'(tensors, plain containers, numpy arrays/dtypes/scalars, mmengine HistoryBuffer), and unpickling it '
        f'could run arbitrary code. Only if the file truly needs full unpickling and you trust it: '
        f'`--trust-checkpoint {filename}` (tools/train.py, tools/test.py) or {TRUST_ENV}={filename}'
    )


def _corrupt(filename: str, detail: str) -> CorruptCheckpointError:
    size = osp.getsize(filename)
    return CorruptCheckpointError(
        f"checkpoint '{filename}' is incomplete or corrupt ({detail}; {size} bytes): it was probably cut off "
        f'while being written, copied or downloaded, or is not a checkpoint; write or fetch it again'
    )


def _classify(filename: str, fmt: Optional[str], err: BaseException) -> Optional[CheckpointError]:
    """The one-line error for a failed ``torch.load``; None when it is neither kind."""
    msg = str(err)
    if fmt is None:
        return _corrupt(filename, 'neither a zip archive nor a pickle')
    if isinstance(err, UnicodeDecodeError):
        return _corrupt(filename, _first_line(msg))
    if isinstance(err, pickle.UnpicklingError):
        for pattern, template in _REFUSALS:
            found = pattern.search(msg)
            if found:
                name = _first_line(found.group(1), 120)
                if template == 'the global {}' and '.' not in name:
                    name = f'builtins.{name}'
                return _refused(filename, template.format(name))
        return _corrupt(filename, _first_line(msg.split('WeightsUnpickler error:')[-1]) or 'unreadable pickle')
    if isinstance(err, EOFError):
        return _corrupt(filename, 'the data ends early')
    if isinstance(err, RuntimeError):  # e.g. a CUDA checkpoint without map_location: not about the file
        return _corrupt(filename, _first_line(msg)) if 'PytorchStreamReader' in msg or 'zip archive' in msg else None
    return _corrupt(filename, f'{type(err).__name__}: {_first_line(msg)}')


# Errors that a truncated or garbled file raises inside torch.load; with weights_only=True also the
# errors of a malformed one (allowlisted callables fed the wrong arguments)
_FILE_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, UnicodeDecodeError)
_LOAD_ERRORS = _FILE_ERRORS + (ValueError, TypeError, IndexError, KeyError, AttributeError, struct.error)


# ---------------------------------------------------------------- loading
def _plain_to_history_buffers_in(ckpt):
    """Rebuild the message hub of a plain-data checkpoint (:class:`~grass_mm.engine.hooks.PlainCheckpointHook`) in
    place."""
    hub = ckpt.get('message_hub') if isinstance(ckpt, dict) else None
    if isinstance(hub, dict) and isinstance(hub.get('log_scalars'), dict):
        hub['log_scalars'] = plain_to_history_buffers(hub['log_scalars'])
    return ckpt


def safe_torch_load(filename: str, map_location=None, trusted: Optional[bool] = None):
    """``torch.load`` a local checkpoint with ``weights_only=True`` and :data:`CHECKPOINT_SAFE_GLOBALS`.

    Args:
        filename (str): Local path.
        map_location: As for :func:`torch.load`.
        trusted (bool, optional): Load with ``weights_only=False``. Defaults to
            :func:`is_trusted` of the path.

    Returns:
        The checkpoint; a plain-data message hub is turned back into ``HistoryBuffer`` objects.

    Raises:
        FileNotFoundError: The file does not exist.
        UntrustedCheckpointError: The file pickles objects outside the allowlist and is not trusted.
        CorruptCheckpointError: The file is truncated, empty or not a PyTorch checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    fmt = _file_format(filename)
    if trusted is None:
        trusted = is_trusted(filename)
    stats_before = dict(HistoryBuffer._statistics_methods)
    try:
        if trusted:
            ckpt = torch.load(filename, map_location=map_location, weights_only=False)
        else:
            present = set(torch.serialization.get_safe_globals())
            with torch.serialization.safe_globals([g for g in CHECKPOINT_SAFE_GLOBALS if g not in present]):
                ckpt = torch.load(filename, map_location=map_location, weights_only=True)
            _check_statistics_methods(stats_before)
    except _Refused as err:
        _restore_statistics_methods(stats_before)
        raise _refused(filename, str(err)) from None
    except _LOAD_ERRORS as err:
        if trusted and not isinstance(err, _FILE_ERRORS):
            raise  # full unpickling: e.g. a class that moved is not the file's fault
        if not trusted:
            _restore_statistics_methods(stats_before)
        one_line = _classify(filename, fmt, err)
        if one_line is None:
            raise
        raise one_line from None
    except Exception:  # anything else on a file that is neither a zip archive nor a pickle
        if fmt is not None:
            raise
        _restore_statistics_methods(stats_before)
        raise _corrupt(filename, 'neither a zip archive nor a pickle') from None
    return _plain_to_history_buffers_in(ckpt)


def load_from_local(filename, map_location=None):
    """Replacement for mmengine's local-path checkpoint loader (see module docstring)."""
    return safe_torch_load(filename, map_location=map_location)


def install_safe_loader() -> None:
    """Route mmengine's loading of local paths (``''`` scheme) through :func:`load_from_local`."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)


# ---------------------------------------------------------------- plain-data message hub
def history_buffers_to_plain(log_scalars: dict) -> dict:
    """``{key: HistoryBuffer}`` -> ``{key: {tag: True, 'log_history': list, ...}}``."""
    plain = {}
    for key, buf in log_scalars.items():
        if isinstance(buf, HistoryBuffer):
            log_hist, count_hist = buf.data
            plain[key] = {
                _BUFFER_TAG: True,
                'log_history': np.asarray(log_hist).tolist(),
                'count_history': np.asarray(count_hist).tolist(),
                'max_length': int(buf.max_length),
            }
        else:
            plain[key] = buf
    return plain


def plain_to_history_buffers(log_scalars: dict) -> dict:
    """Inverse of :func:`history_buffers_to_plain`."""
    out = {}
    for key, val in log_scalars.items():
        if isinstance(val, dict) and val.get(_BUFFER_TAG):
            out[key] = HistoryBuffer(val['log_history'], val['count_history'], val['max_length'])
        else:
            out[key] = val
    return out


def ensure_plain_checkpoint_hook(cfg) -> None:
    """Add :class:`~grass_mm.engine.hooks.PlainCheckpointHook` to ``cfg.default_hooks`` unless some hook list has
    it."""
    from ..engine.hooks import PlainCheckpointHook

    names = [h.get('type') for h in (cfg.get('default_hooks') or {}).values() if isinstance(h, dict)]
    names += [h.get('type') for h in (cfg.get('custom_hooks') or []) if isinstance(h, dict)]
    if not any(n in ('PlainCheckpointHook', PlainCheckpointHook) for n in names):
        cfg.setdefault('default_hooks', {})
        cfg.default_hooks['plain_checkpoint'] = dict(type='PlainCheckpointHook')
