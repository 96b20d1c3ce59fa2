"""Dataset base configs (names and keys other configs rely on) and tools/browse_dataset.py."""

import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

import grass_mm  # noqa: F401

from ._helpers import REPO_ROOT, run_tool

DS = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
SEG = {'potsdam': 6, 'loveda_urban': 7, 'loveda_rural': 7, 'loveda': 7, 'dubai': 6, 'xbd': 2, 'vts': 2}
PRETRAIN = [
    'pretrain_tiles_potsdam',
    'pretrain_tiles_loveda_urban',
    'pretrain_tiles_loveda_rural',
    'pretrain_tiles_dubai',
    'pretrain_pairs_xbd',
    'pretrain_pairs_vts',
]


def _types(d):
    if d.get('type') == 'ConcatDataset':
        return [t for s in d['datasets'] for t in _types(s)]
    return [d['type']]


@pytest.mark.parametrize('name,n', sorted(SEG.items()))
def test_seg_configs(name, n):
    from mmseg.registry import DATASETS

    cfg = Config.fromfile(osp.join(DS, name + '.py'))
    for key in (
        'dataset_type',
        'data_root',
        'crop_size',
        'num_classes',
        'train_pipeline',
        'test_pipeline',
        'train_dataloader',
        'val_dataloader',
        'test_dataloader',
        'val_evaluator',
        'test_evaluator',
    ):
        assert key in cfg, key
    assert type(cfg.num_classes) is int and cfg.num_classes == n
    assert cfg.val_evaluator.type == 'IoUMetric' and 'mIoU' in cfg.val_evaluator.iou_metrics
    for t in _types(cfg.train_dataloader.dataset) + _types(cfg.val_dataloader.dataset):
        cls = DATASETS.get(t)
        assert cls is not None, t
        assert len(cls.METAINFO['classes']) == n


@pytest.mark.parametrize('name', PRETRAIN)
def test_pretrain_configs(name):
    from mmpretrain.registry import DATASETS, TRANSFORMS

    cfg = Config.fromfile(osp.join(DS, name + '.py'))
    d = cfg.train_dataloader.dataset
    assert DATASETS.get(d.type) is not None
    for t in d.pipeline:
        assert TRANSFORMS.get(t['type']) is not None, t['type']
    assert cfg.data_preprocessor.type == 'SelfSupDataPreprocessor'


def test_pretrain_vts_config_builds_two_views():
    from ._helpers import build_pretrain_dataset

    cfg = Config.fromfile(osp.join(DS, 'pretrain_pairs_vts.py'))
    cfg.train_dataloader.dataset.num_samples = 2
    item = build_pretrain_dataset(cfg.train_dataloader.dataset)[1]
    assert len(item['inputs']) == 2 and tuple(item['inputs'][0].shape) == (3, 224, 224)


def test_browse_dataset_seg_and_pairs(tmp_path):
    out = tmp_path / 'seg'
    r = run_tool(
        [
            'tools/browse_dataset.py',
            osp.join(DS, 'vts.py'),
            '--split',
            'val',
            '--num',
            '2',
            '-o',
            str(out),
            '--cfg-options',
            'val_dataloader.dataset.num_samples=3',
        ]
    )
    assert r.returncode == 0, r.stderr
    from grass_mm.datasets.vts import vts_sample

    ref = vts_sample(1, 0)  # val set of vts.py uses seed 1
    prev = np.asarray(Image.open(out / '00000.png'))
    assert sorted(os.listdir(out)) == ['00000.png', '00001.png']
    assert prev.shape == (256, 256 * 2 + 4, 3)
    assert np.array_equal(prev[:, :256], ref['img'])  # left: the image
    right = prev[:, 260:].astype(int)
    # right: palette overlay, class 0 tinted red-ish, class 1 green-ish
    g = right[..., 1] - right[..., 0]
    assert g[ref['gt_seg_map'] == 1].mean() > g[ref['gt_seg_map'] == 0].mean() + 20
    out2 = tmp_path / 'pairs'
    r = run_tool(
        [
            'tools/browse_dataset.py',
            osp.join(DS, 'pretrain_pairs_vts.py'),
            '--raw',
            '--num',
            '1',
            '-o',
            str(out2),
            '--cfg-options',
            'train_dataloader.dataset.num_samples=2',
        ]
    )
    assert r.returncode == 0, r.stderr
    pair = np.asarray(Image.open(out2 / '00000.png'))
    ref = vts_sample(0, 0, r_img=0.5)
    assert np.array_equal(pair[:, :256], ref['img']) and np.array_equal(pair[:, 260:], ref['noisy_img'])
