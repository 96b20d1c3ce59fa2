"""A corrupt, truncated or empty image in a dataset stops with one line naming the file, or is skipped
with a warning when ``on_corrupt='skip'``."""

import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import grass_mm  # noqa: F401
from grass_mm.datasets.rs_io import CorruptImageError, image_bytes_problem
from grass_mm.datasets.transforms import CheckedLoadAnnotations, CheckedLoadImageFromFile, LoadRSTile

from ._helpers import run_tool


def _write(path, arr):
    assert cv2.imwrite(str(path), arr)
    return str(path)


def _truncate(path, keep=0.6):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[: int(len(data) * keep)])
    return str(path)


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)
    out = dict(img=img)
    for ext in ('png', 'jpg'):
        out[ext] = _write(tmp_path / f'ok.{ext}', img)
        out[f'cut_{ext}'] = _truncate(shutil.copy(out[ext], tmp_path / f'cut.{ext}'))
    out['empty'] = str(tmp_path / 'empty.png')
    open(out['empty'], 'wb').close()
    out['garbage'] = str(tmp_path / 'garbage.png')
    with open(out['garbage'], 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + bytes(rng.integers(0, 255, 500, dtype=np.uint8)) + b'IEND')
    return out


def test_image_bytes_problem(images):
    for key in ('png', 'jpg'):
        assert image_bytes_problem(open(images[key], 'rb').read()) is None
    assert 'IEND' in image_bytes_problem(open(images['cut_png'], 'rb').read())
    assert 'end-of-image' in image_bytes_problem(open(images['cut_jpg'], 'rb').read())
    assert 'empty' in image_bytes_problem(b'')


def test_checked_loader_matches_mmcv_on_good_files_and_names_bad_ones(images):
    from mmcv.transforms import LoadImageFromFile

    checked, plain = CheckedLoadImageFromFile(), LoadImageFromFile()
    for key in ('png', 'jpg'):
        a = checked(dict(img_path=images[key]))
        np.testing.assert_array_equal(a['img'], plain(dict(img_path=images[key]))['img'])
        assert a['img_shape'] == (64, 80)
    with pytest.raises(AssertionError):  # mmcv itself: a bare assertion deep in a traceback
        plain(dict(img_path=images['cut_png']))
    for key, why in (('cut_jpg', 'end-of-image'), ('cut_png', 'IEND'), ('empty', 'empty'), ('garbage', 'decoder')):
        with pytest.raises(CorruptImageError) as err:
            checked(dict(img_path=images[key]))
        msg = str(err.value)
        assert "corrupt or truncated image file '" + images[key] + "'" in msg and why in msg and '\n' not in msg
    with pytest.raises(FileNotFoundError):  # a missing file is not reported as corrupt
        checked(dict(img_path=images['png'] + '.missing'))
    with pytest.raises(ValueError, match='on_corrupt'):
        CheckedLoadImageFromFile(on_corrupt='ignore')


def test_skip_warns_once_per_file(images, monkeypatch):
    import mmengine.logging

    warnings = []
    monkeypatch.setattr(mmengine.logging, 'print_log', lambda msg, **kw: warnings.append((msg, kw.get('level'))))
    t = CheckedLoadImageFromFile(on_corrupt='skip')
    assert t(dict(img_path=images['cut_jpg'])) is None
    assert t(dict(img_path=images['cut_jpg'])) is None
    assert t(dict(img_path=images['png']))['img'].shape == (64, 80, 3)
    assert len(warnings) == 1 and images['cut_jpg'] in warnings[0][0] and warnings[0][1] == 30


def test_annotations_and_rs_tiles(images, tmp_path):
    mask = _write(tmp_path / 'mask.png', np.arange(64 * 80, dtype=np.uint8).reshape(64, 80) % 6)
    ok = CheckedLoadAnnotations(reduce_zero_label=False)(
        dict(seg_map_path=mask, reduce_zero_label=False, seg_fields=[])
    )
    assert ok['gt_seg_map'].shape == (64, 80)
    cut = _truncate(shutil.copy(mask, tmp_path / 'mask_cut.png'))
    with pytest.raises(CorruptImageError, match="segmentation map '" + cut):
        CheckedLoadAnnotations()(dict(seg_map_path=cut, reduce_zero_label=False, seg_fields=[]))
    assert (
        CheckedLoadAnnotations(on_corrupt='skip')(dict(seg_map_path=cut, reduce_zero_label=False, seg_fields=[]))
        is None
    )
    with pytest.raises(CorruptImageError, match=images['cut_jpg']):
        LoadRSTile()(dict(img_path=images['cut_jpg']))
    assert LoadRSTile(on_corrupt='skip')(dict(img_path=images['cut_jpg'])) is None


def _seg_folder(tmp_path, images, n=3):
    for sub in ('img_dir', 'ann_dir'):
        (tmp_path / 'ds' / sub).mkdir(parents=True)
    for i in range(n):
        _write(tmp_path / 'ds' / 'img_dir' / f'{i}.png', images['img'])
        _write(tmp_path / 'ds' / 'ann_dir' / f'{i}.png', np.zeros((64, 80), np.uint8))
    return str(tmp_path / 'ds')


def test_dataset_in_dataloader_worker_one_line_and_skip(images, tmp_path):
    """Through a DataLoader worker the error is still one line; with skip, training draws another sample."""
    from mmseg.datasets import BaseSegDataset

    init_default_scope('mmseg')
    root = _seg_folder(tmp_path, images)
    bad = osp.join(root, 'img_dir', '1.png')
    _truncate(bad)

    def dataset(on_corrupt):
        return BaseSegDataset(
            data_root=root,
            data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
            img_suffix='.png',
            seg_map_suffix='.png',
            metainfo=dict(classes=('a', 'b')),
            pipeline=[
                dict(type='CheckedLoadImageFromFile', on_corrupt=on_corrupt),
                dict(type='CheckedLoadAnnotations'),
                dict(type='PackSegInputs'),
            ],
        )

    loader = torch.utils.data.DataLoader(dataset('error'), batch_size=1, num_workers=1, collate_fn=lambda b: b)
    with pytest.raises(CorruptImageError) as err:
        list(loader)
    assert (
        str(err.value) == f"corrupt or truncated image file '{bad}': PNG without its IEND chunk: truncated "
        f'({osp.getsize(bad)} bytes)'
    )
    ds = dataset('skip')
    paths = [ds[i]['data_samples'].img_path for i in range(len(ds))]
    assert bad not in paths and len(paths) == 3  # index 1 was replaced by another (good) sample


def test_train_tool_stops_with_one_line(rs_tiles, tmp_path):
    root = tmp_path / 'potsdam'
    shutil.copytree(osp.join(rs_tiles, 'potsdam'), root)
    bad = sorted((root / 'img_dir').rglob('*.png'))[0]
    _truncate(bad)
    proc = run_tool(
        [
            'tools/train.py',
            'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py',
            '--work-dir',
            str(tmp_path / 'w'),
            '--cfg-options',
            f'train_dataloader.dataset.data_root={root}',
            'train_dataloader.dataset.pipeline.0.type=CheckedLoadImageFromFile',
        ]
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith('error: corrupt or truncated image file') and str(bad) in lines[0], (
        proc.stderr[-3000:]
    )
