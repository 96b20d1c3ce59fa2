"""Re-estimate the BatchNorm statistics of a pretrained segmentor on the target data before fine-tuning.

A backbone pretrained by SimCLR-style instance discrimination carries BN running statistics of its pretraining
batches: two small augmented views per image, colour-jittered, at another resolution than the fine-tuning crops.
The first fine-tuning iterations then normalise the target images with statistics of another distribution (the
"AdaBN" observation, Li et al., "Revisiting Batch Normalization For Practical Domain Adaptation", 2016). This hook
replaces them, once and before the first iteration, by the true average of per-batch statistics over the training
data (mmpretrain's :func:`~mmpretrain.engine.hooks.precise_bn_hook.update_bn_stats`, "precise BN"). Weights and
BN affine parameters do not change; random heads get statistics of their actual inputs too.

Every BatchNorm layer is re-estimated, including those that a backbone's ``norm_eval`` or ``frozen_stages`` keep
in eval mode during training: re-estimating them first and keeping them fixed afterwards is the point of
combining the hook with ``norm_eval=True``. A run resumed from a checkpoint (``runner.iter > 0``) keeps the
statistics stored in it.
"""

import math

import torch
from mmengine.dataset import DefaultSampler
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.engine.hooks.precise_bn_hook import update_bn_stats
from mmseg.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import ConcatDataset, DataLoader


def set_bn_training(model: torch.nn.Module) -> int:
    """Put every BatchNorm layer of ``model`` in training mode (other layers untouched); returns how many."""
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for m in layers:
        m.train()
    return len(layers)


def reestimation_loader(loader: DataLoader, num_samples: int, seed: int) -> DataLoader:
    """A loader over ``loader``'s dataset, pipeline, batch size and collate function that holds at least
    ``num_samples`` samples over all ranks: as many shuffled passes over the dataset as that takes (a small
    labelled subset is passed over several times, its random crops and flips differing each time), split by rank.

    It has its own sampler: the training loader is left alone, since iterating mmengine's ``InfiniteSampler`` a
    second time closes the index generator that the training loop shares.
    """
    passes = math.ceil(num_samples / len(loader.dataset))
    data = loader.dataset if passes == 1 else ConcatDataset([loader.dataset] * passes)
    return DataLoader(
        data,
        batch_size=loader.batch_size,
        sampler=DefaultSampler(data, shuffle=True, seed=seed),
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
    )


@HOOKS.register_module()
class ReestimateBNHook(Hook):
    """Recompute every BN layer's running statistics on ``num_samples`` training samples before training starts.

    The computation is mmpretrain's ``update_bn_stats`` (its ``PreciseBNHook`` runs it after every ``interval``
    and cannot run it before training without stopping an ``InfiniteSampler``); this hook runs it once, before the
    first iteration, in the mmseg scope. The statistics average the per-batch ones of
    ``num_samples`` samples in the training pipeline's batches; a labelled set smaller than that is passed over
    several times (with the pipeline's random crops and flips), a larger one is sampled.

    Args:
        num_samples (int): samples (over all ranks) whose per-batch statistics are averaged (rounded down to
            whole batches). Defaults to 8192.

    Example::

        custom_hooks = [dict(type='ReestimateBNHook', num_samples=512)]
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, num_samples: int = 8192):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError(f'ReestimateBNHook: num_samples must be a positive int, got {num_samples!r}')
        self.num_samples = num_samples

    def before_train(self, runner) -> None:
        if runner.iter > 0:  # resumed: the checkpoint holds the statistics training went on with
            return
        loader = runner.train_loop.dataloader
        if self.num_samples < loader.batch_size:
            raise ValueError(
                f'ReestimateBNHook: num_samples={self.num_samples} is smaller than one training batch '
                f'({loader.batch_size} samples); nothing would be re-estimated'
            )
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        was_training = model.training
        model.train()  # the BN layers in train mode compute batch statistics (norm_eval ones included)
        if set_bn_training(model) == 0:
            raise ValueError(f'ReestimateBNHook: the model {type(model).__name__} has no BatchNorm layer')
        runner.logger.info(f'ReestimateBNHook: BN statistics from up to {self.num_samples} training samples')
        update_bn_stats(
            runner.model, reestimation_loader(loader, self.num_samples, runner.seed), self.num_samples, runner.logger
        )
        model.train(was_training)  # a backbone's norm_eval / frozen stages apply again
