"""Real Potsdam / Vaihingen / LoveDA crops (../shared/data/mmseg_rs_tiles) through the
dataset classes and the pipelines of configs/_base_/datasets."""

import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import grass_mm  # noqa: F401  (registers the datasets)

from ._helpers import REPO_ROOT

CASES = [  # (folder, dataset type, base config whose pipelines are used, n classes)
    ('potsdam', 'PotsdamDataset', 'potsdam.py', 6),
    ('vaihingen', 'ISPRSDataset', 'potsdam.py', 6),
    ('loveda', 'LoveDAUrbanDataset', 'loveda_urban.py', 7),
    ('loveda', 'LoveDARuralDataset', 'loveda_rural.py', 7),
    ('loveda', 'LoveDADataset', 'loveda.py', 7),
]


def _build(root, typ, pipeline):
    from mmseg.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(
                type=typ,
                data_root=root,
                data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
                pipeline=pipeline,
            )
        )


@pytest.mark.parametrize('folder,typ,cfg_name,n', CASES)
def test_classes_labels_and_pipelines(rs_tiles, folder, typ, cfg_name, n):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', cfg_name))
    root = osp.join(rs_tiles, folder)
    plain = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='PackSegInputs'),
    ]
    ds = _build(root, typ, plain)
    assert cfg.num_classes == n == len(ds.metainfo['classes']) == len(ds.metainfo['palette'])
    assert ds.reduce_zero_label is True
    assert len(ds) == len(glob.glob(osp.join(root, 'img_dir', '*.png')))
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        raw = np.asarray(Image.open(info['seg_map_path'])).astype(np.int64)
        expected = np.where(raw == 0, 255, raw - 1)  # reduce_zero_label, computed here
        seg = ds[i]['data_samples'].gt_sem_seg.data[0].numpy()
        assert np.array_equal(seg, expected)
        assert ((seg < n) | (seg == 255)).all()
    # the configs' own pipelines on the same files: labels stay in range or 255
    with DefaultScope.overwrite_default_scope('mmseg'):
        for key in ('train_pipeline', 'test_pipeline'):
            item = _build(root, typ, cfg[key])[0]
            seg = item['data_samples'].gt_sem_seg.data
            vals = seg.unique()
            assert ((vals < n) | (vals == 255)).all(), (key, vals)
            assert tuple(seg.shape[-2:]) == tuple(item['inputs'].shape[-2:])
            if key == 'train_pipeline':  # RandomCrop: at most crop_size (less if resized smaller)
                assert all(a <= b for a, b in zip(seg.shape[-2:], cfg.crop_size, strict=True))


def test_loveda_domains_have_loveda_meta():
    from mmseg.datasets import LoveDADataset

    from grass_mm.datasets import LoveDARuralDataset, LoveDAUrbanDataset

    assert LoveDAUrbanDataset.METAINFO == LoveDADataset.METAINFO == LoveDARuralDataset.METAINFO
    assert (LoveDAUrbanDataset.domain, LoveDARuralDataset.domain) == ('Urban', 'Rural')


def test_check_label_range_names_the_mask(rs_tiles, tmp_path):
    import shutil

    root = tmp_path / 'potsdam'
    shutil.copytree(osp.join(rs_tiles, 'potsdam'), root)
    ann = next((root / 'ann_dir').iterdir())
    m = np.asarray(Image.open(ann)).copy()
    m[:2, :2] = 9  # a value no Potsdam class has (1..6 before reduce_zero_label)
    Image.fromarray(m).save(ann)
    pipe = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='CheckLabelRange', num_classes=6),
        dict(type='PackSegInputs'),
    ]
    ds = _build(str(root), 'PotsdamDataset', pipe)
    with pytest.raises(ValueError, match=ann.name + r'.*\[8\]'):
        ds[0]
    ok = _build(osp.join(rs_tiles, 'potsdam'), 'PotsdamDataset', pipe)[0]  # real masks pass
    assert ok['data_samples'].gt_sem_seg.data.max() <= 255
