"""Small GraSS models for the tests (ResNet-18, 16 base channels)."""

import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import grass_mm  # noqa: F401


def small_grass_cfg(**kwargs):
    cfg = dict(
        type='GraSS',
        backbone=dict(type='ResNet', depth=18, base_channels=16, stem_channels=16, out_indices=(3,)),
        neck=dict(
            type='NonLinearNeck',
            in_channels=128,
            hid_channels=64,
            out_channels=32,
            num_layers=2,
            with_avg_pool=True,
            norm_cfg=dict(type='BN1d'),
        ),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0]),
    )
    cfg.update(kwargs)
    return cfg


def small_grass(**kwargs):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(small_grass_cfg(**kwargs))


def random_views(n=4, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, size, size, generator=g) for _ in range(2)]
