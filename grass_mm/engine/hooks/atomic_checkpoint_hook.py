"""mmengine's CheckpointHook whose checkpoints survive a killed process (see :mod:`grass_mm.runtime.atomic_checkpoint`:
atomic writes through :class:`~grass_mm.runtime.atomic_checkpoint.AtomicLocalBackend`)."""

import glob
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ...runtime.atomic_checkpoint import ATOMIC_BACKEND, PART_SUFFIX, AtomicLocalBackend


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
