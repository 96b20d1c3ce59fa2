"""ProbeThenFinetuneHook: during the probe the backbone (weights and BN statistics) stays as initialised while the
head trains; afterwards the whole network trains. Checked through mmengine's Runner on in-memory VTS images."""

import copy

import pytest
import torch
from mmengine.hooks import Hook

import grass_mm  # noqa: F401
from grass_mm.seg import ProbeThenFinetuneHook

from _seg_tiny import tiny_model  # noqa: E402


class Snapshots(Hook):
    """Copies of the model's state after its weights are initialised (0) and after every training iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.states = {}

    def before_train(self, runner):
        self.states[0] = copy.deepcopy(runner.model.state_dict())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.states[runner.iter + 1] = copy.deepcopy(runner.model.state_dict())


def _runner(tmp_path, max_iters, hooks, backbone_norm_eval=False):
    from mmengine.runner import Runner

    model = tiny_model('fcn', num_classes=2)
    model['type'] = 'EncoderDecoder'
    model['data_preprocessor']['size'] = (64, 64)
    model['backbone']['norm_eval'] = backbone_norm_eval
    pipeline = [dict(type='LoadImageFromNDArray'), dict(type='PackSegInputs')]
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            batch_size=2,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(type='VTSSegDataset', num_samples=8, size=64, seed=0, pipeline=pipeline),
        ),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
        custom_hooks=hooks,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10**6), logger=None),
        default_scope='mmseg',
        randomness=dict(seed=0),
        experiment_name=tmp_path.name,
    )


def _changed(a, b, prefix):
    return {k for k in a if k.startswith(prefix) and a[k].is_floating_point() and not torch.equal(a[k], b[k])}


def test_probe_keeps_backbone_then_trains_it(tmp_path):
    snaps = Snapshots()
    runner = _runner(tmp_path, 4, [dict(type='ProbeThenFinetuneHook', probe_iters=2), snaps])
    runner.train()
    s = snaps.states
    init = s[0]
    backbone = {k for k in init if k.startswith('backbone.') and init[k].is_floating_point()}
    # probe: no backbone tensor moved (weights, BN affine, BN running statistics), the head trained
    assert not _changed(init, s[1], 'backbone.') and not _changed(init, s[2], 'backbone.')
    assert _changed(init, s[1], 'decode_head.') and _changed(s[1], s[2], 'decode_head.')
    # fine-tuning: every backbone weight and BN running statistic moves, the configured norm_eval is back
    moved = _changed(s[2], s[4], 'backbone.')
    assert {k for k in backbone if k.endswith(('conv1.weight', 'running_mean'))} <= moved
    assert runner.model.backbone.norm_eval is False and runner.model.backbone.training
    assert all(m.training for m in runner.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_probe_restores_configured_norm_eval(tmp_path):
    runner = _runner(tmp_path, 3, [dict(type='ProbeThenFinetuneHook', probe_iters=1)], backbone_norm_eval=True)
    runner.train()
    assert runner.model.backbone.norm_eval is True
    assert not any(m.training for m in runner.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_without_probe_backbone_trains_from_the_first_iteration(tmp_path):
    """The control: the same run without the hook moves the backbone at iteration 1."""
    snaps = Snapshots()
    runner = _runner(tmp_path, 1, [snaps])
    runner.train()
    assert _changed(snaps.states[0], snaps.states[1], 'backbone.')


@pytest.mark.parametrize('bad', [0, -3, 2.5, True, None])
def test_bad_probe_iters(bad):
    with pytest.raises(ValueError, match='probe_iters must be a positive int'):
        ProbeThenFinetuneHook(probe_iters=bad)


def test_probe_longer_than_training_is_refused(tmp_path):
    runner = _runner(tmp_path, 2, [dict(type='ProbeThenFinetuneHook', probe_iters=2)])
    with pytest.raises(ValueError, match=r'probe_iters=2 leaves nothing to fine-tune \(max_iters=2\)'):
        runner.train()
