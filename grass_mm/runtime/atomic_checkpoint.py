"""Checkpoints that survive a killed process: atomic writes, old files removed only afterwards.

mmengine's :class:`~mmengine.hooks.CheckpointHook` (0.10) has two windows in which a run killed
by the scheduler (SIGKILL, pre-emption, out of memory) loses work:

* the file is written in place (``open(path, 'wb')``), so a kill during the write leaves a
  truncated ``iter_N.pth`` that looks like a checkpoint;
* with ``max_keep_ckpts`` the oldest checkpoint is deleted *before* the new one is written, so
  with ``max_keep_ckpts=1`` a kill during the write leaves no complete checkpoint at all, and
  ``last_checkpoint`` names a deleted file.

:class:`~grass_mm.engine.hooks.AtomicCheckpointHook` is a drop-in replacement (same arguments): by default it writes
through :class:`AtomicLocalBackend`, which writes ``PATH.part`` and renames it to ``PATH``
(``os.replace``, atomic on POSIX and Windows) after an ``fsync``, and it deletes outdated
checkpoints only after the new one and ``last_checkpoint`` are complete. An ``iter_N.pth`` on disk
is therefore always whole, and ``tools/train.py --resume`` continues from the last complete one.
Remote storage (``backend_args`` naming another backend) is left to that backend.
"""

import os
import os.path as osp
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

ATOMIC_BACKEND = 'atomic_local'
PART_SUFFIX = '.part'


def atomic_write(path: str, data: bytes, fsync: bool = True, write=None) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent/old or complete, never partial.

    Args:
        path: destination file.
        data: the bytes.
        fsync: flush to the disk before the rename (survives a power loss, not only a kill).
        write: ``write(file, data)``; defaults to ``file.write(data)``.
    """
    mmengine.mkdir_or_exist(osp.dirname(osp.abspath(path)))
    part = f'{path}{PART_SUFFIX}'
    with open(part, 'wb') as f:
        (write or (lambda fh, b: fh.write(b)))(f, data)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(part, path)


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` / ``put_text`` are atomic (see :func:`atomic_write`).

    Select it with ``backend_args=dict(backend='atomic_local')`` (``fsync=False`` to skip the flush).
    """

    def __init__(self, fsync: bool = True) -> None:
        super().__init__()
        self.fsync = fsync

    def _write(self, f, data: bytes) -> None:
        """Write the bytes to the open ``.part`` file (a seam for tests that slow the write down)."""
        f.write(data)

    def put(self, obj: bytes, filepath: Union[str, 'os.PathLike']) -> None:
        atomic_write(str(filepath), obj, fsync=self.fsync, write=self._write)

    def put_text(self, obj: str, filepath: Union[str, 'os.PathLike'], encoding: str = 'utf-8') -> None:
        atomic_write(str(filepath), obj.encode(encoding), fsync=self.fsync)
