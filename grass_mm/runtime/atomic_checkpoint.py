"""Checkpoints that survive a killed process: atomic writes, old files removed only afterwards.

mmengine's :class:`~mmengine.hooks.CheckpointHook` (0.10) has two windows in which a run killed
by the scheduler (SIGKILL, pre-emption, out of memory) loses work:

* the file is written in place (``open(path, 'wb')``), so a kill during the write leaves a
  truncated ``iter_N.pth`` that looks like a checkpoint;
* with ``max_keep_ckpts`` the oldest checkpoint is deleted *before* the new one is written, so
  with ``max_keep_ckpts=1`` a kill during the write leaves no complete checkpoint at all, and
  ``last_checkpoint`` names a deleted file.

:class:`AtomicCheckpointHook` is a drop-in replacement (same arguments): by default it writes
through :class:`AtomicLocalBackend`, which writes ``PATH.part`` and renames it to ``PATH``
(``os.replace``, atomic on POSIX and Windows) after an ``fsync``, and it deletes outdated
checkpoints only after the new one and ``last_checkpoint`` are complete. An ``iter_N.pth`` on disk
is therefore always whole, and ``tools/train.py --resume`` continues from the last complete one.
Remote storage (``backend_args`` naming another backend) is left to that backend.
"""

import glob
import os
import os.path as osp
from typing import Optional, Union

import mmengine
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

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


class _DeferredRemoval:
    """A file backend proxy that records ``remove`` / ``rmtree`` calls instead of running them."""

    def __init__(self, backend):
        self._backend = backend
        self.removed = []

    def remove(self, path):
        self.removed.append(('remove', path))

    def rmtree(self, path):
        self.removed.append(('rmtree', path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` that never leaves a partial or lost checkpoint.

    Same arguments as ``CheckpointHook``. Unless ``backend_args`` / ``file_client_args`` name a
    storage backend, checkpoints and ``last_checkpoint`` are written atomically
    (:class:`AtomicLocalBackend`), and checkpoints beyond ``max_keep_ckpts`` are deleted after the
    new checkpoint is complete (mmengine deletes first). ``PATH.part`` files left by a killed write
    are removed when the next run starts.
    """

    def __init__(
        self, *args, backend_args: Optional[dict] = None, file_client_args: Optional[dict] = None, **kwargs
    ) -> None:
        if backend_args is None and file_client_args is None:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, backend_args=backend_args, file_client_args=file_client_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, AtomicLocalBackend):
            for part in glob.glob(osp.join(glob.escape(self.out_dir), f'*.pth{PART_SUFFIX}')):
                runner.logger.warning(
                    f'AtomicCheckpointHook: removing {part}, left by a run killed while it wrote that checkpoint'
                )
                os.remove(part)

    def _save_checkpoint_with_step(self, runner, step, meta):
        backend = self.file_backend
        deferred = self.file_backend = _DeferredRemoval(backend)
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self.file_backend = backend
        if is_main_process() and isinstance(backend, AtomicLocalBackend):
            # mmengine wrote last_checkpoint in place; rewrite it atomically (same content)
            backend.put_text(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        for op, path in deferred.removed:  # only now that the new checkpoint is complete
            getattr(backend, op)(path)
