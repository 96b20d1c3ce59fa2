"""Every contrast config parses; a few iterations of each config family on the real Potsdam crop, then eval.

The R50 / Swin-T configs are shrunk by cfg override (ResNet-18 with 16 base channels, a 1-block Swin) and
trained for 2 iterations on 128x128 crops of ``../shared/data/mmseg_rs_tiles/potsdam`` (skipped when absent).
"""

import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from _seg_tiny import build  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'patch_contrast', '*.py'))
    + glob.glob(osp.join(ROOT, 'configs', 'pixel_anchor', '*.py'))
)
R18 = [16, 32, 64, 128]


def test_all_configs_present_and_parse():
    names = [osp.basename(c) for c in CONFIGS]
    for model in ('upernet_r50', 'fcn_r50'):
        for ds in ('potsdam', 'loveda-urban', 'loveda-rural', 'dubai'):
            for comp in ('patch-contrast', 'pixel-anchor', 'patch-contrast_pixel-anchor'):
                assert f'{model}_{comp}_4xb4-80k_{ds}-512x512.py' in names
    assert 'upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py' in names
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        m = cfg.model
        assert m.type == 'ContrastEncoderDecoder'
        assert m.decode_head.num_classes == cfg.num_classes == m.auxiliary_head.num_classes
        assert tuple(m.data_preprocessor.size) == tuple(cfg.crop_size)
        assert ('patch_contrast_head' in m) == ('patch-contrast' in path)
        assert ('pixel_anchor_head' in m) == ('pixel-anchor' in path)


def shrink(cfg):
    """R50 -> R18 (16 base channels) / Swin-T -> 1-block Swin; component channels follow."""
    m = cfg.model
    if m.backbone.type == 'SwinTransformer':
        m.backbone.update(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8], drop_path_rate=0.0)
        chans = [16, 32, 64, 128]
    else:
        m.backbone.update(depth=18, stem_channels=16, base_channels=16)
        chans = R18
    dh = m.decode_head
    dh.in_channels = chans if isinstance(dh.in_channels, list) else chans[dh.in_index]
    dh.channels = 16
    m.auxiliary_head.update(in_channels=chans[m.auxiliary_head.in_index], channels=8)
    if 'patch_contrast_head' in m:
        p = m.patch_contrast_head
        p.update(in_channels=[chans[i] for i in p.in_index], channels=16, max_pos=32, max_neg=32)
    if 'pixel_anchor_head' in m:
        a = m.pixel_anchor_head
        a.update(
            in_channels=[chans[i] for i in a.in_index], decoder_channels=16, channels=16, max_samples=32, max_hard=32
        )
    return cfg


def tiny_potsdam(cfg, root, work_dir):
    pipe_train = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='RandomResize', scale=(256, 256), ratio_range=(0.5, 1.0), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(128, 128)),
        dict(type='PackSegInputs'),
    ]
    pipe_test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='PackSegInputs'),
    ]
    data = dict(
        type='PotsdamDataset',
        data_root=osp.join(root, 'potsdam'),
        reduce_zero_label=True,
        data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
    )
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(**data, pipeline=pipe_train),
    )
    cfg.val_dataloader = dict(
        batch_size=1,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(**data, pipeline=pipe_test),
    )
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.data_preprocessor.size = (128, 128)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2, by_epoch=False)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.pop('visualization', None)
    cfg.work_dir = str(work_dir)
    return cfg


FAMILIES = [
    'patch_contrast/upernet_r50_patch-contrast_4xb4-80k_potsdam-512x512.py',
    'pixel_anchor/upernet_r50_pixel-anchor_4xb4-80k_potsdam-512x512.py',
    'pixel_anchor/fcn_r50_patch-contrast_pixel-anchor_4xb4-80k_potsdam-512x512.py',
    'patch_contrast/upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py',
]


@pytest.mark.parametrize('rel', FAMILIES)
def test_train_and_evaluate_on_real_potsdam(rel, rs_tiles, tmp_path):
    from mmengine.runner import Runner

    cfg = tiny_potsdam(shrink(Config.fromfile(osp.join(ROOT, 'configs', rel))), rs_tiles, tmp_path)
    with DefaultScope.overwrite_default_scope('mmseg'):
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.test()
    assert 'mIoU' in metrics and 0 <= metrics['mIoU'] <= 100
    hub = runner.message_hub
    keys = ['train/decode.loss_ce']
    if 'patch-contrast' in rel:
        keys.append('train/patch_contrast.loss_patch_contrast')
    if 'pixel-anchor' in rel:
        keys.append('train/pixel_anchor.loss_pixel_anchor')
    for k in keys:
        values = hub.get_scalar(k).data[0]  # every logged iteration
        assert len(values) == 2 and np.isfinite(values).all(), (k, values)
        if k != 'train/decode.loss_ce':  # the component really contributes on real labels (fixed seed)
            assert (values > 0).any(), (k, values)


def test_full_size_models_build():
    """The real (R50 / Swin-T) component channel lists agree with the backbones."""
    for rel in (
        'pixel_anchor/upernet_r50_patch-contrast_pixel-anchor_4xb4-80k_potsdam-512x512.py',
        'pixel_anchor/fcn_r50_patch-contrast_pixel-anchor_4xb4-80k_loveda-urban-512x512.py',
        'patch_contrast/upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py',
    ):
        model = build(Config.fromfile(osp.join(ROOT, 'configs', rel)).model)
        assert model.patch_contrast_head is not None


CT_RECIPES = [
    'patch_contrast/upernet_r50_patch-contrast_4xb4-ct-recipe-adamw-80k_potsdam-512x512.py',
    'patch_contrast/upernet_swin-t_patch-contrast_4xb4-ct-recipe-adamw-80k_potsdam-512x512.py',
]


@pytest.mark.parametrize('rel', CT_RECIPES)
def test_ct_recipe_is_the_official_code_setting(rel):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', rel))
    p = cfg.model.patch_contrast_head
    assert (p.pairing, p.loss_weight, p.clip, p.channels, p.hidden_channels) == ('paired', 1.0, 1.5, 128, 128)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0 and 'momentum' not in cfg.optim_wrapper.optimizer
    from mmseg.models.backbones import ResNet
    from mmseg.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmseg'):  # the projections without building the backbone
        head = MODELS.build(dict(p, num_classes=6))
    widths = [(q[0].in_features, q[0].out_features, q[2].in_features, q[2].out_features) for q in head.projections]
    assert widths == [(c, 128, 128, 128) for c in p.in_channels]
    assert p.in_channels == ([1024, 2048] if cfg.model.backbone.type == ResNet.__name__ else [384, 768])


def test_ct_recipe_trains_a_few_iterations():
    """The R50 recipe, shrunk to R18, with its own optimizer wrapper (AdamW, clip 1.0), on synthetic batches."""
    import torch
    from mmengine.optim import build_optim_wrapper

    from _seg_tiny import tiny_batch as _batch

    cfg = shrink(Config.fromfile(osp.join(ROOT, 'configs', CT_RECIPES[0])))
    cfg.model.data_preprocessor.size = (64, 64)
    torch.manual_seed(0)
    model = build(cfg.model)
    with DefaultScope.overwrite_default_scope('mmseg'):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == 'AdamW'
    before = model.patch_contrast_head.projections[0][0].weight.detach().clone()
    x, samples = _batch(b=2, size=64)
    losses = []
    for _ in range(3):
        log = model.train_step(dict(inputs=list(x), data_samples=samples), wrapper)
        losses.append(float(log['patch_contrast.loss_patch_contrast']))
    assert all(0 < v <= 1.5 for v in losses), losses  # weight 1, clamped at 1.5
    assert not torch.equal(before, model.patch_contrast_head.projections[0][0].weight)
    assert wrapper.clip_grad_kwargs == dict(max_norm=1.0, norm_type=2)
