"""GraSS training: build-time/first-step errors, GS step, stage switch and resume, real tiles."""

import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS

from _grass_helpers import _GraSSRandomViews, random_views, small_grass, small_grass_cfg  # noqa: F401  (registers the dataset)


# ------------------------------------------------------------------ bad input
def test_bad_threshold_and_stage_fail_at_build():
    with pytest.raises(ValueError, match='threshold=1.0'):
        small_grass(threshold=1.0)
    with pytest.raises(ValueError, match='threshold=-0.1'):
        small_grass(threshold=-0.1)
    with pytest.raises(ValueError, match='gs_stage=4'):
        small_grass(gs_stage=4)


def test_one_image_batch_and_tiny_view_fail_at_first_step():
    model = small_grass(gs_enabled=True)
    with pytest.raises(ValueError, match='batch of 1 image'):
        model.loss(random_views(n=1, size=64), None)
    with pytest.raises(ValueError, match='16x16 .* stride 32'):
        model.loss(random_views(n=2, size=16), None)


# ------------------------------------------------------------------ the GS step
def test_gs_step_gradients_equal_plain_loss_on_crops_and_update_params():
    torch.manual_seed(0)
    model = small_grass(gs_enabled=True)
    model.eval()  # frozen BN statistics: both passes see identical normalisation
    inputs = random_views(n=3, size=64)
    loss = model.loss(inputs, None)['loss']
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    assert len(grads) == len(list(model.parameters()))
    # independent computation: crops first, then the plain SimCLR loss on them
    model.zero_grad(set_to_none=True)
    crops = model.guided_crops(model._interleave(inputs))
    assert all(p.grad is None for p in model.parameters())
    ref = model.contrastive_loss(model.backbone(crops.detach()))
    ref.backward()
    torch.testing.assert_close(loss, ref)
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, grads[n], msg=n)
    # one optimizer step through train_step changes the parameters
    model.train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    from mmengine.optim import OptimWrapper

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.zero_grad(set_to_none=True)
    log = model.train_step(dict(inputs=[v * 255 for v in inputs], data_samples=None), optim)
    assert torch.isfinite(log['loss'])
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert any(n.startswith('backbone.layer1') for n in changed)
    assert any(n.startswith('neck.') for n in changed)


# ------------------------------------------------------------------ stage switch in a Runner
@HOOKS.register_module(force=True)
class _RecordGS(Hook):
    priority = 'LOWEST'
    records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        _RecordGS.records.append((runner.epoch, runner.iter, runner.model.gs_enabled))


def _cfg(tmp_path, train_cfg, hook, resume=False, load_from=None):
    return Config(
        dict(
            default_scope='mmpretrain',
            custom_imports=dict(imports=['grass_mm'], allow_failed_imports=False),
            model=small_grass_cfg(),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                dataset=dict(type='_GraSSRandomViews'),
            ),
            train_cfg=train_cfg,
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=1, by_epoch=train_cfg.get('type') != 'IterBasedTrainLoop'
                ),
                logger=dict(type='LoggerHook', interval=1),
            ),
            custom_hooks=[hook, dict(type='_RecordGS'), dict(type='PlainCheckpointHook')],
            resume=resume,
            load_from=load_from,
            log_level='WARNING',
            randomness=dict(seed=0),
        )
    )


def test_switch_by_iters_and_resume(tmp_path):
    _RecordGS.records.clear()
    hook = dict(type='GraSSWarmupHook', warmup_iters=2)
    runner = Runner.from_cfg(_cfg(tmp_path, dict(type='IterBasedTrainLoop', max_iters=3), hook))
    runner.train()
    assert [r[2] for r in _RecordGS.records] == [False, False, True]
    # resume from iter 3 in a fresh model (gs_enabled=False at build): continues in GS
    _RecordGS.records.clear()
    runner = Runner.from_cfg(_cfg(tmp_path, dict(type='IterBasedTrainLoop', max_iters=4), hook, resume=True))
    assert runner.model.gs_enabled is False
    runner.train()
    assert _RecordGS.records == [(0, 3, True)]


def test_switch_by_epochs_and_resume_in_warmup(tmp_path):
    _RecordGS.records.clear()
    hook = dict(type='GraSSWarmupHook', warmup_epochs=1)
    runner = Runner.from_cfg(_cfg(tmp_path, dict(by_epoch=True, max_epochs=1), hook))
    runner.train()
    assert [r[2] for r in _RecordGS.records] == [False, False]  # 8 items / batch 4
    _RecordGS.records.clear()
    runner = Runner.from_cfg(_cfg(tmp_path, dict(by_epoch=True, max_epochs=2), hook, resume=True))
    runner.train()
    assert [(e, g) for e, _, g in _RecordGS.records] == [(1, True), (1, True)]


def test_hook_needs_one_warmup_value():
    from grass_mm.engine.hooks import GraSSWarmupHook

    with pytest.raises(ValueError, match='warmup_epochs'):
        GraSSWarmupHook()
    with pytest.raises(ValueError, match='warmup_iters=-1'):
        GraSSWarmupHook(warmup_iters=-1)


# ------------------------------------------------------------------ real tiles
def _tile_views(rs_tiles, n=4, size=64, seed=0):
    from PIL import Image

    paths = sorted(glob.glob(osp.join(rs_tiles, '*', 'img_dir', '**', '*.png'), recursive=True))
    if len(paths) < 2:
        pytest.skip(f'fewer than 2 tiles under {rs_tiles}')
    rng = np.random.default_rng(seed)
    imgs = [np.asarray(Image.open(paths[i % len(paths)]).convert('RGB')) for i in range(n)]
    views = [[], []]
    for img in imgs:
        h, w = img.shape[:2]
        for v in range(2):
            s = int(rng.integers(min(h, w) // 3, min(h, w) // 2))
            y, x = rng.integers(0, h - s), rng.integers(0, w - s)
            t = torch.from_numpy(img[y : y + s, x : x + s].copy()).permute(2, 0, 1)[None].float()
            t = torch.nn.functional.interpolate(t, size=(size, size), mode='bilinear')
            views[v].append((t[0] - 128) / 64)
    return [torch.stack(v) for v in views]


def test_gs_iterations_on_real_tiles_lower_the_loss(rs_tiles):
    """Five GS steps (guidance pass, DAR crops, loss, Adam step) on real tiles.

    BN statistics are frozen (eval mode) so that the loss is a function of the parameters
    and the guided crops only, not of batch-statistics noise on 8 views.
    """
    torch.manual_seed(0)
    model = small_grass(gs_enabled=True)
    model.eval()
    inputs = _tile_views(rs_tiles)
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        optim.zero_grad(set_to_none=True)
        loss = model.loss(inputs, None)['loss']
        loss.backward()
        optim.step()
        losses.append(float(loss.detach()))
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0], losses
