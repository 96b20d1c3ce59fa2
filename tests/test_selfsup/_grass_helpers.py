"""Small GraSS models for the tests (ResNet-18, 16 base channels)."""

import torch
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS, MODELS
from mmpretrain.structures import DataSample

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


@DATASETS.register_module(force=True)
class _GraSSRandomViews(BaseDataset):
    """8 items of two random 32x32 views (test only)."""

    def __init__(self, **kwargs):
        super().__init__(serialize_data=False, lazy_init=True, **kwargs)

    def load_data_list(self):
        return [dict(idx=i) for i in range(8)]

    def prepare_data(self, idx):
        g = torch.Generator().manual_seed(idx)
        return dict(
            inputs=[(torch.rand(3, 32, 32, generator=g) * 255).to(torch.uint8) for _ in range(2)],
            data_samples=DataSample(),
        )
