"""ProbeThenFinetuneHook: during the probe the backbone (weights and BN statistics) stays as initialised while the
head trains; afterwards the whole network trains. Checked through mmengine's Runner on in-memory VTS images."""

import pytest
import torch

import grass_mm  # noqa: F401
from grass_mm.engine.hooks import ProbeThenFinetuneHook

from _seg_tiny import Snapshots, changed_keys, tiny_runner  # noqa: E402


def test_probe_keeps_backbone_then_trains_it(tmp_path):
    snaps = Snapshots()
    runner = tiny_runner(tmp_path, 4, [dict(type='ProbeThenFinetuneHook', probe_iters=2), snaps])
    runner.train()
    s = snaps.states
    init = s[0]
    backbone = {k for k in init if k.startswith('backbone.') and init[k].is_floating_point()}
    # probe: no backbone tensor moved (weights, BN affine, BN running statistics), the head trained
    assert not changed_keys(init, s[1], 'backbone.') and not changed_keys(init, s[2], 'backbone.')
    assert changed_keys(init, s[1], 'decode_head.') and changed_keys(s[1], s[2], 'decode_head.')
    # fine-tuning: every backbone weight and BN running statistic moves, the configured norm_eval is back
    moved = changed_keys(s[2], s[4], 'backbone.')
    assert {k for k in backbone if k.endswith(('conv1.weight', 'running_mean'))} <= moved
    assert runner.model.backbone.norm_eval is False and runner.model.backbone.training
    assert all(m.training for m in runner.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_probe_restores_configured_norm_eval(tmp_path):
    runner = tiny_runner(tmp_path, 3, [dict(type='ProbeThenFinetuneHook', probe_iters=1)], backbone_norm_eval=True)
    runner.train()
    assert runner.model.backbone.norm_eval is True
    assert not any(m.training for m in runner.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_without_probe_backbone_trains_from_the_first_iteration(tmp_path):
    """The control: the same run without the hook moves the backbone at iteration 1."""
    snaps = Snapshots()
    runner = tiny_runner(tmp_path, 1, [snaps])
    runner.train()
    assert changed_keys(snaps.states[0], snaps.states[1], 'backbone.')


@pytest.mark.parametrize('bad', [0, -3, 2.5, True, None])
def test_bad_probe_iters(bad):
    with pytest.raises(ValueError, match='probe_iters must be a positive int'):
        ProbeThenFinetuneHook(probe_iters=bad)


def test_probe_longer_than_training_is_refused(tmp_path):
    runner = tiny_runner(tmp_path, 2, [dict(type='ProbeThenFinetuneHook', probe_iters=2)])
    with pytest.raises(ValueError, match=r'probe_iters=2 leaves nothing to fine-tune \(max_iters=2\)'):
        runner.train()
