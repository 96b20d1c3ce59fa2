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
        save_warmup_checkpoint (bool): save a resumable checkpoint (model, optimizer, schedulers)
            named ``warmup_end.pth`` in the work dir when the warm-up ends, so that another stage
            2 (e.g. the random-box control, ``model.box_mode='random'``) can start from the very
            same warm-up with ``load_from=.../warmup_end.pth`` and ``resume=True``.
            Defaults to False.
    """

    WARMUP_CHECKPOINT = 'warmup_end.pth'

    priority = 'NORMAL'

    def __init__(
        self,
        warmup_epochs: Optional[int] = None,
        warmup_iters: Optional[int] = None,
        save_warmup_checkpoint: bool = False,
    ) -> None:
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
        self.save_warmup_checkpoint = bool(save_warmup_checkpoint)

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

    def _save(self, runner, by_epoch: bool) -> None:
        # called after the last warm-up iteration / epoch: mmengine records iter + 1 (epoch + 1), so a resumed
        # run starts at the first gradient-guided step
        runner.save_checkpoint(runner.work_dir, self.WARMUP_CHECKPOINT, by_epoch=by_epoch)
        runner.logger.info(f'GraSSWarmupHook: warm-up checkpoint {self.WARMUP_CHECKPOINT} saved')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.save_warmup_checkpoint and self.warmup_iters is not None and runner.iter + 1 == self.warmup_iters:
            self._save(runner, by_epoch=False)

    def after_train_epoch(self, runner) -> None:
        if self.save_warmup_checkpoint and self.warmup_epochs is not None and runner.epoch + 1 == self.warmup_epochs:
            self._save(runner, by_epoch=True)
