"""Stage switch of GraSS: SimCLR warm-up, then gradient-guided sampling."""

from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class GraSSWarmupHook(Hook):
    """Turn on GraSS gradient-guided sampling after a warm-up.

    The stage is derived from ``runner.epoch`` / ``runner.iter`` before every training
    iteration, so a run resumed from a checkpoint continues in the stage it was in. The switch
    is logged once.

    Args:
        warmup_epochs (int, optional): epochs of plain SimCLR (epoch-based loops).
        warmup_iters (int, optional): iterations of plain SimCLR. Give exactly one of the two.
    """

    priority = 'NORMAL'

    def __init__(self, warmup_epochs: Optional[int] = None, warmup_iters: Optional[int] = None) -> None:
        if (warmup_epochs is None) == (warmup_iters is None):
            raise ValueError(
                'GraSSWarmupHook needs exactly one of warmup_epochs / warmup_iters, got '
                f'warmup_epochs={warmup_epochs!r}, warmup_iters={warmup_iters!r}'
            )
        for name, v in (('warmup_epochs', warmup_epochs), ('warmup_iters', warmup_iters)):
            if v is not None and (not isinstance(v, int) or v < 0):
                raise ValueError(f'GraSSWarmupHook {name} must be an int >= 0, got {name}={v!r}')
        self.warmup_epochs = warmup_epochs
        self.warmup_iters = warmup_iters

    def in_gs_stage(self, runner) -> bool:
        if self.warmup_iters is not None:
            return runner.iter >= self.warmup_iters
        return runner.epoch >= self.warmup_epochs

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'set_gs'):
            raise TypeError(f'GraSSWarmupHook needs a GraSS model, got {type(model).__name__}')
        gs = self.in_gs_stage(runner)
        if gs != model.gs_enabled:
            runner.logger.info(
                f'GraSSWarmupHook: {"gradient-guided sampling" if gs else "SimCLR warm-up"} '
                f'from epoch {runner.epoch}, iter {runner.iter}'
            )
        model.set_gs(gs)
