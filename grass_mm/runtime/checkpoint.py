"""Checkpoint loading that keeps ``torch.load(weights_only=True)``.

torch >= 2.6 loads checkpoints with ``weights_only=True``: only tensors and plain
containers/scalars are unpickled. A stock mmengine checkpoint stores the message hub's
:class:`~mmengine.logging.HistoryBuffer` objects, whose statistics methods are bound methods;
loading them would need ``builtins.getattr`` on the allowlist, which lets a crafted file call
arbitrary methods. grass_mm never allowlists it. Instead:

* :class:`PlainCheckpointHook` (registered in every grass_mm base runtime config and added by
  ``tools/train.py`` when a config lacks it) rewrites the message hub's buffers into plain
  lists when a checkpoint is saved and rebuilds them when it is loaded, so grass_mm checkpoints
  hold tensors and plain data only.
* :func:`load_from_local` replaces mmengine's loader for local paths (``load_from``,
  ``--resume``, ``init_cfg=dict(type='Pretrained')``, ``tools/test.py``). It always calls
  ``torch.load(..., weights_only=True)`` with a small allowlist of plain numpy types (arrays,
  dtypes, scalars). A checkpoint holding any other pickled object, a stock mmengine checkpoint
  included, is refused with :class:`UntrustedCheckpointError`, unless the user opts in for that
  file (see :func:`trust_checkpoint`).

Opt-in for a checkpoint you trust (it is then loaded with ``weights_only=False``):

* ``tools/train.py ... --trust-checkpoint PATH`` (also ``tools/test.py``), or
* the environment variable ``GRASS_MM_TRUSTED_CHECKPOINTS=PATH[:PATH...]``, or
* ``grass_mm.runtime.trust_checkpoint(PATH)`` in Python.
"""
import os
import os.path as osp
import pickle
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.registry import HOOKS
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'GRASS_MM_TRUSTED_CHECKPOINTS'
_BUFFER_TAG = '__grass_mm_history_buffer__'
_trusted = set()


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects beyond tensors and plain data."""


def _key(path: str) -> str:
    return osp.realpath(osp.expanduser(path))


def trust_checkpoint(paths: Union[str, Iterable[str]]) -> None:
    """Allow full unpickling (``weights_only=False``) of the given checkpoint files.

    Only do this for files you created or otherwise trust: unpickling runs code.
    """
    for p in [paths] if isinstance(paths, str) else paths:
        _trusted.add(_key(p))


def is_trusted(path: str) -> bool:
    env = [p for p in os.environ.get(TRUST_ENV, '').split(os.pathsep) if p]
    return _key(path) in _trusted or _key(path) in {_key(p) for p in env}


def _numpy_safe_globals() -> list:
    """Plain numpy types that may appear in checkpoints: arrays, dtypes, scalars."""
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    safe = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return safe


NUMPY_SAFE_GLOBALS = _numpy_safe_globals()


def safe_torch_load(filename: str, map_location=None, trusted: Optional[bool] = None):
    """``torch.load`` a local checkpoint with ``weights_only=True`` plus plain numpy types.

    Args:
        filename (str): Local path.
        map_location: As for :func:`torch.load`.
        trusted (bool, optional): Load with ``weights_only=False``. Defaults to
            :func:`is_trusted` of the path.

    Raises:
        FileNotFoundError: The file does not exist.
        UntrustedCheckpointError: The file holds other pickled objects and is not trusted.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    if trusted is None:
        trusted = is_trusted(filename)
    if trusted:
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(NUMPY_SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        detail = str(err).strip().splitlines()
        found = next((ln.strip() for ln in detail if 'Unsupported global' in ln or 'GLOBAL' in ln), detail[0] if detail else '')
        raise UntrustedCheckpointError(
            f"refusing to load checkpoint '{filename}': it holds pickled objects beyond tensors and plain data "
            f'({found[:200]}), and unpickling them can run arbitrary code. grass_mm runs write plain-data '
            f'checkpoints; for a file you trust (e.g. a stock mmengine checkpoint), opt in with '
            f'`--trust-checkpoint {filename}` (tools/train.py, tools/test.py) or '
            f'{TRUST_ENV}={filename}.') from None


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


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Keep checkpoints loadable with ``torch.load(weights_only=True)``.

    Before a checkpoint is saved, the message hub's ``HistoryBuffer`` objects are replaced by
    plain lists; after a checkpoint is loaded they are rebuilt, so ``--resume`` restores the
    smoothed log values exactly as mmengine would.
    """

    priority = 'LOWEST'  # runs after every other hook has added to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict) and 'log_scalars' in hub:
            hub['log_scalars'] = history_buffers_to_plain(hub['log_scalars'])
        if isinstance(hub, dict) and isinstance(hub.get('runtime_info'), dict):
            # e.g. the ETA is a numpy float: store Python scalars
            hub['runtime_info'] = {
                k: v.item() if isinstance(v, np.generic) else v
                for k, v in hub['runtime_info'].items()
            }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict) and 'log_scalars' in hub:
            hub['log_scalars'] = plain_to_history_buffers(hub['log_scalars'])


def ensure_plain_checkpoint_hook(cfg) -> None:
    """Add :class:`PlainCheckpointHook` to ``cfg.default_hooks`` unless some hook list has it."""
    names = [h.get('type') for h in (cfg.get('default_hooks') or {}).values() if isinstance(h, dict)]
    names += [h.get('type') for h in (cfg.get('custom_hooks') or []) if isinstance(h, dict)]
    if not any(n in ('PlainCheckpointHook', PlainCheckpointHook) for n in names):
        cfg.setdefault('default_hooks', {})
        cfg.default_hooks['plain_checkpoint'] = dict(type='PlainCheckpointHook')
