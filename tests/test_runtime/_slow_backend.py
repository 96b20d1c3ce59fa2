"""A test-only file backend: :class:`AtomicLocalBackend` whose byte writes are slowed down.

Imported by the crash-and-resume test's config (``custom_imports``) so that a SIGKILL reliably lands
while a checkpoint is being written; everything else (temp file, rename, deferred removal) is the
real code under test.
"""

import time

from mmengine.fileio import register_backend

from grass_mm.runtime.atomic_checkpoint import AtomicLocalBackend


@register_backend('slow_atomic_local', force=True)
class SlowAtomicLocalBackend(AtomicLocalBackend):
    def __init__(self, delay: float = 0.02, chunk: int = 1 << 20, **kwargs):
        super().__init__(**kwargs)
        self.delay, self.chunk = delay, chunk

    def _write(self, f, data: bytes) -> None:
        for i in range(0, len(data), self.chunk):
            f.write(data[i : i + self.chunk])
            f.flush()
            time.sleep(self.delay)
