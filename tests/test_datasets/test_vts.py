"""VTS generator and the datasets built on it (no real data needed)."""

import numpy as np
import pytest

from grass_mm.datasets.vts import vts_sample


@pytest.mark.parametrize('r_img', [0.0, 0.1, 0.25, 0.5, 1.0])
def test_cells_balance_and_noisy_count(r_img):
    s = vts_sample(seed=3, index=7, r_img=r_img)
    cells = s['cells']
    # 20 Voronoi cells, every one present in the image
    assert np.array_equal(np.unique(cells), np.arange(20))
    # the two classes are spread evenly over the cells
    assert np.bincount(s['cell_class'], minlength=2).tolist() == [10, 10]
    # label map is the class of each pixel's cell, and is constant within a cell
    assert np.array_equal(s['gt_seg_map'], s['cell_class'][cells])
    for c in range(20):
        assert len(np.unique(s['gt_seg_map'][cells == c])) == 1
    # r_img honoured exactly in cell count
    assert int(s['noisy_cells'].sum()) == int(round(r_img * 20))


def test_noisy_twin_differs_only_in_noisy_cells():
    s = vts_sample(seed=0, index=1, r_img=0.3)
    noisy_px = s['noisy_cells'][s['cells']]
    diff = np.any(s['img'] != s['noisy_img'], axis=-1)
    assert not diff[~noisy_px].any()  # identical outside the noisy cells
    # inside each noisy cell the texture really changed (most pixels differ)
    for c in np.flatnonzero(s['noisy_cells']):
        assert diff[s['cells'] == c].mean() > 0.5
    assert s['img'].shape == (256, 256, 3) and s['img'].dtype == np.uint8


def test_textures_differ_between_classes():
    s = vts_sample(seed=0, index=2)
    g = s['img'][..., 0].astype(np.float32)
    m0, m1 = g[s['gt_seg_map'] == 0], g[s['gt_seg_map'] == 1]
    # brick vs grass differ in their grey-level statistics
    assert abs(m0.mean() - m1.mean()) > 3 or abs(m0.std() - m1.std()) > 3


def test_deterministic_from_seed_and_index():
    a, b = vts_sample(5, 11, r_img=0.5), vts_sample(5, 11, r_img=0.5)
    for k in a:
        assert np.array_equal(a[k], b[k])
    c = vts_sample(5, 12, r_img=0.5)
    d = vts_sample(6, 11, r_img=0.5)
    assert not np.array_equal(a['img'], c['img']) and not np.array_equal(a['img'], d['img'])


def test_bad_r_img():
    with pytest.raises(ValueError, match='r_img'):
        vts_sample(0, 0, r_img=1.5)


def test_vts_seg_dataset_on_the_fly():
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(
            dict(
                type='VTSSegDataset',
                num_samples=3,
                seed=4,
                size=64,
                pipeline=[dict(type='LoadImageFromNDArray'), dict(type='PackSegInputs')],
            )
        )
    assert len(ds) == 3 and ds.metainfo['classes'] == ('brick', 'grass')
    item = ds[2]
    ref = vts_sample(4, 2, size=64)
    assert item['inputs'].shape == (3, 64, 64)
    assert np.array_equal(item['data_samples'].gt_sem_seg.data[0].numpy(), ref['gt_seg_map'])


def test_vts_pair_dataset():
    from ._helpers import build_pretrain_dataset

    ds = build_pretrain_dataset(dict(type='VTSPairDataset', num_samples=5, seed=2, r_img=0.35, size=64))
    info = ds.get_data_info(3)
    ref = vts_sample(2, 3, size=64, r_img=0.35)
    assert info['sample_idx'] == 3
    assert np.array_equal(info['img'], ref['img']) and np.array_equal(info['pair_img'], ref['noisy_img'])
    assert info['noisy_cell_fraction'] == pytest.approx(7 / 20)
    with pytest.raises(ValueError, match='r_img'):
        build_pretrain_dataset(dict(type='VTSPairDataset', num_samples=5, r_img=-0.1))


def test_write_vts_matches_generator(tmp_path):
    from PIL import Image

    from grass_mm.datasets.converters import write_vts

    out = tmp_path / 'vts'
    write_vts(str(out), num_train=2, num_val=1, seed=9, r_img=0.5, size=64, progress=False)
    for split, seed, i in (('train', 9, 1), ('val', 10, 0)):
        ref = vts_sample(seed, i, size=64, r_img=0.5)
        name = f'{i:06d}.png'
        assert np.array_equal(np.asarray(Image.open(out / 'img_dir' / split / name)), ref['img'])
        assert np.array_equal(np.asarray(Image.open(out / 'ann_dir' / split / name)), ref['gt_seg_map'])
        assert np.array_equal(np.asarray(Image.open(out / 'pair_dir' / split / name)), ref['noisy_img'])
    with pytest.raises(FileExistsError, match='vts'):
        write_vts(str(out), num_train=1, num_val=1, size=64, progress=False)
