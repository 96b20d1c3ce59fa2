"""ReestimateBNHook: before the first iteration every BN layer's running statistics become the average of the
per-batch statistics over the training data, weights untouched; norm_eval layers are re-estimated and then kept;
a resumed run keeps its checkpoint's statistics. Checked through mmengine's Runner on in-memory VTS images."""

import copy
import types

import pytest
import torch
from mmengine.hooks import Hook

import grass_mm  # noqa: F401
from grass_mm.engine.hooks import ReestimateBNHook

from _seg_tiny import Snapshots, changed_keys, tiny_runner  # noqa: E402


class BeforeEverything(Hook):
    """The model's state at ``before_train`` before any other hook (the initialisation), and the stem BN's input
    statistics computed independently over all 8 training images: per-channel mean and unbiased variance of
    ``conv1(x)``."""

    priority = 'HIGHEST'

    def before_train(self, runner):
        self.state = copy.deepcopy(runner.model.state_dict())
        ds = runner.train_loop.dataloader.dataset
        data = runner.train_loop.dataloader.collate_fn([ds[i] for i in range(len(ds))])
        with torch.no_grad():
            x = runner.model.data_preprocessor(data, False)['inputs']
            y = runner.model.backbone.conv1(x).transpose(0, 1).flatten(1)  # (C, 8*H*W)
        self.stem_mean, self.stem_var = y.mean(1), y.var(1, unbiased=True)


def _bn_keys(state, prefix, stat):
    return {k for k in state if k.startswith(prefix) and k.endswith(stat)}


@pytest.mark.parametrize('batch_size', [2, 8])
def test_statistics_become_the_training_data_average(tmp_path, batch_size):
    """Averaged over 4 batches of 2 or taken from one batch of 8, the stem's mean is the mean over the training
    data; with one batch the variance is the data's too (with 4 it is the mean of per-batch variances).
    Training (mmengine's InfiniteSampler) goes on after the re-estimation."""
    before, after = BeforeEverything(), Snapshots()
    hooks = [dict(type='ReestimateBNHook', num_samples=8), before, after]
    runner = tiny_runner(tmp_path, 1, hooks, batch_size=batch_size)
    runner.train()
    init, reest = before.state, after.states[0]
    # every BN layer of the model (backbone and the random heads) got new statistics, nothing else changed
    stats = _bn_keys(init, '', 'running_mean') | _bn_keys(init, '', 'running_var')
    assert len(_bn_keys(init, 'backbone.', 'running_mean')) == 20 and _bn_keys(init, 'decode_head.', 'running_mean')
    assert changed_keys(init, reest, '') == stats
    torch.testing.assert_close(reest['backbone.bn1.running_mean'], before.stem_mean, rtol=1e-4, atol=1e-4)
    if batch_size == 8:
        torch.testing.assert_close(reest['backbone.bn1.running_var'], before.stem_var, rtol=1e-4, atol=1e-4)
    assert 1 in after.states  # the first training iteration ran
    assert all(m.momentum == 0.1 for m in runner.model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_norm_eval_layers_are_reestimated_then_kept(tmp_path):
    """With backbone norm_eval the statistics are re-estimated once and training keeps them."""
    before, snaps = BeforeEverything(), Snapshots()
    runner = tiny_runner(tmp_path, 2, [dict(type='ReestimateBNHook'), before, snaps], backbone_norm_eval=True)
    runner.train()
    means = _bn_keys(before.state, 'backbone.', 'running_mean')
    assert changed_keys(before.state, snaps.states[0], 'backbone.') >= means
    assert not changed_keys(snaps.states[0], snaps.states[2], 'backbone.') & means
    assert not any(m.training for m in runner.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert runner.model.backbone.norm_eval is True


def test_without_the_hook_training_starts_from_the_initial_statistics(tmp_path):
    """The control: nothing else in the run changes the statistics before the first iteration."""
    before, snaps = BeforeEverything(), Snapshots()
    tiny_runner(tmp_path, 1, [before, snaps]).train()
    assert not changed_keys(before.state, snaps.states[0], '')


def test_resumed_run_keeps_its_statistics():
    """After iteration 0 (a resumed run) the hook touches nothing: this stub runner has no model or loader."""
    ReestimateBNHook().before_train(types.SimpleNamespace(iter=3))


def test_fewer_samples_than_a_batch_is_refused(tmp_path):
    runner = tiny_runner(tmp_path, 1, [dict(type='ReestimateBNHook', num_samples=1)])
    with pytest.raises(ValueError, match=r'num_samples=1 is smaller than one training batch \(2 samples\)'):
        runner.train()


@pytest.mark.parametrize('bad', [0, -4, 2.5, True, None])
def test_bad_num_samples(bad):
    with pytest.raises(ValueError, match='num_samples must be a positive int'):
        ReestimateBNHook(num_samples=bad)
