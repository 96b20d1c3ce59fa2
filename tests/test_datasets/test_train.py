"""A few UPerNet iterations (tiny ResNet-18) on converted Dubai data and on LoveDA-format
data, built from the base configs with mmengine's Runner."""

import math
import os
import os.path as osp
import shutil

from mmengine.config import Config

import grass_mm  # noqa: F401
from grass_mm.datasets.converters import convert_dubai_aerial

from ._helpers import REPO_ROOT

BASE = osp.join(REPO_ROOT, 'configs', '_base_')


def _tiny_upernet(num_classes):
    norm_cfg = dict(type='BN', requires_grad=True)
    return dict(
        data_preprocessor=dict(size=(64, 64)),
        backbone=dict(depth=18, stem_channels=16, base_channels=16, init_cfg=None),
        decode_head=dict(
            in_channels=[16, 32, 64, 128], channels=32, pool_scales=(1, 2), num_classes=num_classes, norm_cfg=norm_cfg
        ),
        auxiliary_head=dict(in_channels=64, channels=16, num_classes=num_classes, norm_cfg=norm_cfg),
    )


def _run(tmp_path, dataset_cfg, data_root, prefixes):
    with open(tmp_path / 'cfg.py', 'w') as f:
        f.write(
            f"_base_ = ['{BASE}/models/upernet_r50.py', '{BASE}/datasets/{dataset_cfg}', "
            f"'{BASE}/default_runtime_seg.py', '{BASE}/schedules/seg_20k.py']\n"
        )
    cfg = Config.fromfile(str(tmp_path / 'cfg.py'))
    n = cfg.num_classes
    cfg.merge_from_dict(dict(model=_tiny_upernet(n)))
    rzl = cfg.train_pipeline[1]['reduce_zero_label']
    train_pipe = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=rzl),
        dict(type='Resize', scale=(96, 96), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(64, 64)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    test_pipe = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='LoadAnnotations', reduce_zero_label=rzl),
        dict(type='PackSegInputs'),
    ]
    for key, pipe, (img, ann) in (
        ('train_dataloader', train_pipe, prefixes[0]),
        ('val_dataloader', test_pipe, prefixes[1]),
        ('test_dataloader', test_pipe, prefixes[1]),
    ):
        cfg[key].update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[key].dataset.update(data_root=data_root, pipeline=pipe, data_prefix=dict(img_path=img, seg_map_path=ann))
    cfg.train_cfg.update(max_iters=3, val_interval=3)
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=3, by_epoch=False)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 3
    cfg.default_hooks.pop('visualization')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert set(('mIoU', 'aAcc')) <= set(metrics)
    assert all(math.isfinite(metrics[k]) for k in ('mIoU', 'aAcc'))
    assert 0 <= metrics['aAcc'] <= 100
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_3.pth'))
    return metrics


def test_upernet_on_converted_dubai(dubai_root, tmp_path):
    src = tmp_path / 'kaggle'
    for tile, n in (('tile_1', 3), ('tile_2', 1)):  # a tiny subset of the real data
        for sub in ('images', 'masks'):
            os.makedirs(src / tile / sub)
        for name in sorted(os.listdir(osp.join(dubai_root, tile, 'images')))[:n]:
            stem = osp.splitext(name)[0]
            shutil.copy(osp.join(dubai_root, tile, 'images', name), src / tile / 'images')
            shutil.copy(osp.join(dubai_root, tile, 'masks', stem + '.png'), src / tile / 'masks')
    out = tmp_path / 'dubai'
    convert_dubai_aerial(str(src), str(out), val_tiles=('tile_2',), progress=False)
    _run(tmp_path, 'dubai.py', str(out), [('img_dir/train', 'ann_dir/train'), ('img_dir/val', 'ann_dir/val')])


def test_upernet_on_loveda_format(rs_tiles, tmp_path):
    _run(
        tmp_path, 'loveda_urban.py', os.path.join(rs_tiles, 'loveda'), [('img_dir', 'ann_dir'), ('img_dir', 'ann_dir')]
    )
