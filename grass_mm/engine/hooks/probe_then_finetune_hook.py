"""Linear probing, then fine-tuning (LP-FT) of a segmentor initialised from a pretrained backbone.

Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform Out-of-Distribution" (ICLR 2022):
when a randomly initialised head is trained together with a pretrained encoder, the head's early, large
gradients flow into the encoder and distort the features the pretraining learned. Training the head first on
the fixed encoder (the probe), then the whole network, avoids that.

During the first ``probe_iters`` iterations the backbone's outputs are detached, so the backbone gets no gradient
(its parameters keep ``grad=None``: the optimizer neither updates them nor applies weight decay or momentum to
them) and its BatchNorm layers run in eval mode (the initialisation's statistics are kept). From iteration
``probe_iters`` on, the whole network trains with the backbone's configured ``norm_eval``.

The parameters keep ``requires_grad=True`` throughout, so the optimizer and the learning-rate schedule are built
as usual. Under ``DistributedDataParallel`` the probe leaves the backbone's parameters unused, which DDP accepts
only with ``find_unused_parameters=True`` (``model_wrapper_cfg``); the hook says so before the first iteration.
"""

from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def detach_outputs(outputs):
    """The backbone's outputs (a tensor, or a tuple/list of per-stage maps ``(N, C_i, H_i, W_i)``), detached."""
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(o.detach() for o in outputs)
    return outputs.detach()


@HOOKS.register_module()
class ProbeThenFinetuneHook(Hook):
    """Train only the heads for ``probe_iters`` iterations on the fixed backbone, then the whole network.

    Args:
        probe_iters (int): iterations of the probe (>= 1). Must be smaller than the training's ``max_iters``.

    Example::

        custom_hooks = [dict(type='ProbeThenFinetuneHook', probe_iters=50)]
    """

    priority = 'NORMAL'

    def __init__(self, probe_iters: int):
        if not isinstance(probe_iters, int) or isinstance(probe_iters, bool) or probe_iters < 1:
            raise ValueError(f'ProbeThenFinetuneHook: probe_iters must be a positive int, got {probe_iters!r}')
        self.probe_iters = probe_iters
        self._handle = None
        self._norm_eval: Optional[bool] = None

    @staticmethod
    def _backbone(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'backbone'):
            raise ValueError(f'ProbeThenFinetuneHook: the model {type(model).__name__} has no backbone')
        return model.backbone

    @property
    def probing(self) -> bool:
        return self._handle is not None

    def before_train(self, runner) -> None:
        max_iters = getattr(runner, 'max_iters', None)
        if max_iters is not None and self.probe_iters >= max_iters:
            raise ValueError(
                f'ProbeThenFinetuneHook: probe_iters={self.probe_iters} leaves nothing to fine-tune '
                f'(max_iters={max_iters})'
            )
        if is_model_wrapper(runner.model) and getattr(runner.model, 'find_unused_parameters', True) is False:
            raise ValueError(
                'ProbeThenFinetuneHook: the probe leaves the backbone parameters unused; set '
                "model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)"
            )
        if runner.iter < self.probe_iters:  # a run resumed after the probe starts fine-tuning at once
            self._start_probe(runner)

    def _start_probe(self, runner) -> None:
        backbone = self._backbone(runner)
        self._norm_eval = bool(getattr(backbone, 'norm_eval', False))
        backbone.norm_eval = True
        backbone.train(runner.model.training)
        self._handle = backbone.register_forward_hook(lambda module, args, out: detach_outputs(out))
        runner.logger.info(f'ProbeThenFinetuneHook: backbone fixed for the first {self.probe_iters} iterations')

    def _end_probe(self, runner) -> None:
        backbone = self._backbone(runner)
        self._handle.remove()
        self._handle = None
        backbone.norm_eval = self._norm_eval
        backbone.train(runner.model.training)
        runner.logger.info(f'ProbeThenFinetuneHook: iteration {runner.iter + 1}, the whole network trains from now on')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.probing and runner.iter + 1 >= self.probe_iters:
            self._end_probe(runner)

    def after_train(self, runner) -> None:
        if self.probing:
            self._end_probe(runner)
