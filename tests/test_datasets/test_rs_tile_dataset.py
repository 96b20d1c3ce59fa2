"""Unlabeled tile datasets: png/jpg/16-bit multi-band tif, tiling, LoadRSTile, bad input."""

import os
import os.path as osp

import numpy as np
import pytest
import tifffile
from PIL import Image

import grass_mm  # noqa: F401
from grass_mm.datasets.rs_io import read_rs_image, tile_windows, to_uint8


def _build(**kw):
    from ._helpers import build_pretrain_dataset

    return build_pretrain_dataset(dict(type='RSTileDataset', **kw))


def _scenes(root):
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'a', 'b'))
    rgb = rng.integers(0, 256, (70, 100, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(osp.join(root, 'a', 'scene.png'))
    small = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(small).save(osp.join(root, 'a', 'b', 'small.jpg'), quality=95)
    ms = rng.integers(0, 4000, (64, 48, 4), dtype=np.uint16)  # 16-bit, 4 bands (R, G, B, IR)
    tifffile.imwrite(osp.join(root, 'a', 'b', 'ms.tif'), ms)
    return rgb, small, ms


def test_tile_windows_cover_scene():
    wins = tile_windows(70, 100, (32, 32), (32, 32))
    cover = np.zeros((70, 100), int)
    for x, y, w, h in wins:
        assert w == 32 and h == 32 and x + w <= 100 and y + h <= 70
        cover[y : y + h, x : x + w] += 1
    assert (cover >= 1).all()
    assert len(wins) == 3 * 4  # rows 0,32,38 ; cols 0,32,64,68
    assert tile_windows(20, 30, (32, 32), None) == [(0, 0, 30, 20)]
    assert tile_windows(20, 30, None, None) == [(0, 0, 30, 20)]


def test_dataset_tiles_and_loads_windows(tmp_path):
    rgb, small, ms = _scenes(str(tmp_path))
    ds = _build(
        data_root=str(tmp_path),
        data_prefix='a',
        tile_size=32,
        stride=32,
        pipeline=[dict(type='LoadRSTile', channel_order='rgb')],
    )
    n_expected = len(tile_windows(70, 100, (32, 32), (32, 32))) + 1 + len(tile_windows(64, 48, (32, 32), (32, 32)))
    assert len(ds) == n_expected
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        x, y, w, h = info['tile']
        img = ds[i]['img']
        assert img.shape == (h, w, 3) and img.dtype == np.uint8
        if info['img_path'].endswith('scene.png'):
            assert np.array_equal(img, rgb[y : y + h, x : x + w])
        if info['img_path'].endswith('ms.tif'):
            assert info['scene_shape'] == (64, 48)
    # 16-bit RGB+IR: bands (0, 1, 2) stretched per band on the window
    tif_idx = [i for i in range(len(ds)) if ds.get_data_info(i)['img_path'].endswith('ms.tif')][0]
    x, y, w, h = ds.get_data_info(tif_idx)['tile']
    assert np.array_equal(ds[tif_idx]['img'], to_uint8(ms[y : y + h, x : x + w, :3], 'percentile'))
    # BGR by default (like LoadImageFromFile)
    bgr = _build(data_root=str(tmp_path), data_prefix='a/b', include='small*', pipeline=[dict(type='LoadRSTile')])
    assert len(bgr) == 1
    assert np.array_equal(bgr[0]['img'], read_rs_image(str(tmp_path / 'a/b/small.jpg'))[..., ::-1])


def test_other_bands_and_rescale(tmp_path):
    _, _, ms = _scenes(str(tmp_path))
    p = str(tmp_path / 'a' / 'b' / 'ms.tif')
    img = read_rs_image(p, bands=(3, 0, 1), rescale=4000)
    ref = np.clip(ms[..., [3, 0, 1]].astype(np.float32) / 4000, 0, 1) * 255 + 0.5
    assert np.array_equal(img, ref.astype(np.uint8))
    with pytest.raises(ValueError, match='ms.tif has 4 bands'):
        read_rs_image(p, bands=(0, 1, 5))


def test_two_view_pipeline_from_config(tmp_path):
    from mmengine.config import Config

    from ._helpers import REPO_ROOT

    _scenes(str(tmp_path))
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/_base_/datasets/pretrain_tiles_potsdam.py'))
    d = cfg.train_dataloader.dataset
    d.update(data_root=str(tmp_path), data_prefix='a', tile_size=32, stride=32)
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        item = _build(**{k: v for k, v in d.items() if k != 'type'})[0]
    assert len(item['inputs']) == 2
    assert all(tuple(v.shape) == (3, cfg.crop_size, cfg.crop_size) for v in item['inputs'])


def test_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        _build(data_root=str(tmp_path), data_prefix='nowhere')
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(ValueError, match='empty'):
        _build(data_root=str(tmp_path), data_prefix='empty')
    os.makedirs(tmp_path / 'bad')
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / 'bad' / 'x.png')
    data = (tmp_path / 'bad' / 'x.png').read_bytes()
    (tmp_path / 'bad' / 'x.png').write_bytes(data[: len(data) // 2])  # truncated
    ds = _build(data_root=str(tmp_path), data_prefix='bad', pipeline=[dict(type='LoadRSTile')])
    with pytest.raises(ValueError, match=r'truncated image file .*x\.png'):
        ds[0]
    (tmp_path / 'bad' / 'x.png').write_bytes(b'not an image')
    with pytest.raises(ValueError, match=r'x\.png'):
        _build(data_root=str(tmp_path), data_prefix='bad')
