"""``randomness=dict(deterministic=True)`` that trains on a GPU: deterministic kernels, a warning for the others."""

import os

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

CUBLAS_WORKSPACE_CONFIGS = (':4096:8', ':16:8')  # the values that make cuBLAS deterministic (CUDA >= 10.2)


@HOOKS.register_module()
class DeterministicWarnOnlyHook(Hook):
    """Keep PyTorch's deterministic algorithms on, but warn instead of raising where a kernel has none.

    With ``randomness=dict(seed=..., deterministic=True)`` mmengine 0.10 (``set_random_seed``, run while the
    Runner is built) sets cuDNN to deterministic and calls ``torch.use_deterministic_algorithms(True)`` without
    ``warn_only``: on a GPU the first kernel that has no deterministic CUDA implementation raises a RuntimeError
    (bilinear-upsampling and adaptive average-pooling backward in the first training step, ``torch.histc`` in mmseg's
    ``IoUMetric``). In ``before_run`` (after the seed was set, before the weights are initialised and before any
    iteration; also before validation or testing alone) this hook switches to
    ``torch.use_deterministic_algorithms(True, warn_only=True)``: every kernel that has a deterministic
    implementation uses it, the others warn (PyTorch's warning names the kernel) and stay non-deterministic.

    It does nothing unless deterministic algorithms are on (``deterministic=False``, the default) or when they
    already warn only. It does not set ``CUBLAS_WORKSPACE_CONFIG`` (cuBLAS reads it once, possibly before the run
    starts): on a GPU without it, it logs a warning to set ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` in the environment
    that launches the run.

    Example::

        randomness = dict(seed=0, deterministic=True)
        custom_hooks = [dict(type='DeterministicWarnOnlyHook')]  # in grass_mm's runtime bases already
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if not torch.are_deterministic_algorithms_enabled() or torch.is_deterministic_algorithms_warn_only_enabled():
            return
        torch.use_deterministic_algorithms(True, warn_only=True)
        runner.logger.info(
            'DeterministicWarnOnlyHook: deterministic algorithms stay on; kernels without a deterministic '
            'implementation warn instead of raising (torch.use_deterministic_algorithms(True, warn_only=True))'
        )
        if torch.cuda.is_available() and os.environ.get('CUBLAS_WORKSPACE_CONFIG') not in CUBLAS_WORKSPACE_CONFIGS:
            runner.logger.warning(
                'DeterministicWarnOnlyHook: CUBLAS_WORKSPACE_CONFIG is not set, so cuBLAS is not deterministic; '
                'set CUBLAS_WORKSPACE_CONFIG=:4096:8 in the environment that launches the run'
            )
