"""Dubai aerial (real CC0 data in ../shared/data/dubai_aerial): converter and dataset."""

import glob
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from grass_mm.datasets.converters import convert_dubai_aerial

# the colours listed in ../shared/data/README.md, in the documented index order
README_COLOURS = ['3C1098', '8429F6', '6EC1E4', 'FEDD3A', 'E2A929', '9B9B9B']
CLASSES = ['building', 'land', 'road', 'vegetation', 'water', 'unlabeled']


def _counts_from_colour_masks(root, tiles):
    """Per-class pixel counts straight from the colour masks (independent of the converter)."""
    counts = dict.fromkeys(CLASSES + ['ignore'], 0)
    for tile in tiles:
        for m in sorted(glob.glob(osp.join(root, tile, 'masks', '*.png'))):
            rgb = np.asarray(Image.open(m).convert('RGB'))
            known = np.zeros(rgb.shape[:2], bool)
            for name, hexc in zip(CLASSES, README_COLOURS, strict=True):
                c = np.array([int(hexc[i : i + 2], 16) for i in (0, 2, 4)], np.uint8)
                hit = np.all(rgb == c, axis=-1)
                counts[name] += int(hit.sum())
                known |= hit
            counts['ignore'] += int((~known).sum())
    return counts


@pytest.fixture(scope='module')
def converted(dubai_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('dubai') / 'converted'
    counts = convert_dubai_aerial(dubai_root, str(out), val_tiles=('tile_6',), progress=False)
    return out, counts


def test_counts_match_colour_masks(dubai_root, converted):
    out, counts = converted
    tiles = sorted(d for d in os.listdir(dubai_root) if osp.isdir(osp.join(dubai_root, d)))
    assert counts['val'] == _counts_from_colour_masks(dubai_root, ['tile_6'])
    assert counts['train'] == _counts_from_colour_masks(dubai_root, [t for t in tiles if t != 'tile_6'])
    # the written index masks hold exactly those counts too
    written = np.zeros(256, np.int64)
    for m in glob.glob(str(out / 'ann_dir' / 'val' / '*.png')):
        written += np.bincount(np.asarray(Image.open(m)).ravel(), minlength=256)
    assert written[:6].tolist() == [counts['val'][c] for c in CLASSES]
    assert written[255] == counts['val']['ignore'] and written[6:255].sum() == 0
    n_in = len(glob.glob(osp.join(dubai_root, '*', 'images', '*.jpg')))
    n_out = len(glob.glob(str(out / 'img_dir' / '*' / '*.jpg')))
    assert n_out == n_in == len(glob.glob(str(out / 'ann_dir' / '*' / '*.png')))


def test_dataset_reads_converted(converted):
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    out, _ = converted
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(
            dict(
                type='DubaiAerialDataset',
                data_root=str(out),
                data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')],
            )
        )
    assert ds.metainfo['classes'] == tuple(CLASSES)
    assert ds.metainfo['palette'][0] == [0x3C, 0x10, 0x98]
    assert ds.reduce_zero_label is False
    item = ds[0]
    seg = item['data_samples'].gt_sem_seg.data
    assert seg.shape[-2:] == item['inputs'].shape[-2:]
    vals = set(seg.unique().tolist())
    assert vals <= set(range(6)) | {255}


def _small_copy(dubai_root, dst, n=2):
    """Copy the first n pairs of tile_1 into a Kaggle-layout folder."""
    for sub in ('images', 'masks'):
        os.makedirs(osp.join(dst, 'tile_1', sub))
    names = sorted(os.listdir(osp.join(dubai_root, 'tile_1', 'images')))[:n]
    for name in names:
        stem = osp.splitext(name)[0]
        shutil.copy(osp.join(dubai_root, 'tile_1', 'images', name), osp.join(dst, 'tile_1', 'images'))
        shutil.copy(osp.join(dubai_root, 'tile_1', 'masks', stem + '.png'), osp.join(dst, 'tile_1', 'masks'))
    return names


def test_unknown_colour_error_or_ignore(dubai_root, tmp_path):
    src = tmp_path / 'src'
    names = _small_copy(dubai_root, str(src))
    mpath = src / 'tile_1' / 'masks' / (osp.splitext(names[1])[0] + '.png')
    rgb = np.asarray(Image.open(mpath).convert('RGB')).copy()
    rgb[:3, :4] = (1, 2, 3)  # 12 pixels of a colour outside the palette
    Image.fromarray(rgb).save(mpath)
    with pytest.raises(ValueError, match=r'#010203.*'):
        convert_dubai_aerial(str(src), str(tmp_path / 'out'), val_tiles=(), progress=False)
    try:
        convert_dubai_aerial(str(src), str(tmp_path / 'out'), val_tiles=(), progress=False)
    except ValueError as e:
        assert osp.basename(str(mpath)) in str(e)
    assert not (tmp_path / 'out').exists()
    with pytest.warns(UserWarning, match='12 pixel'):
        counts = convert_dubai_aerial(
            str(src), str(tmp_path / 'out'), val_tiles=(), unknown_colours='ignore', progress=False
        )
    written = np.asarray(
        Image.open(tmp_path / 'out' / 'ann_dir' / 'train' / ('tile_1_' + osp.splitext(names[1])[0] + '.png'))
    )
    assert (written[:3, :4] == 255).all()
    assert counts['train']['ignore'] >= 12


def test_bad_inputs(dubai_root, tmp_path):
    src = tmp_path / 'src'
    names = _small_copy(dubai_root, str(src))
    # image without mask
    os.remove(src / 'tile_1' / 'masks' / (osp.splitext(names[0])[0] + '.png'))
    with pytest.raises(FileNotFoundError, match=names[0]):
        convert_dubai_aerial(str(src), str(tmp_path / 'o1'), val_tiles=(), progress=False)
    with pytest.warns(UserWarning, match='skipped 1 image'):
        convert_dubai_aerial(str(src), str(tmp_path / 'o1'), val_tiles=(), on_missing='skip', progress=False)
    assert len(os.listdir(tmp_path / 'o1' / 'img_dir' / 'train')) == 1
    # refuses to overwrite; never deletes input
    with pytest.raises(FileExistsError, match='o1'):
        convert_dubai_aerial(str(src), str(tmp_path / 'o1'), val_tiles=(), on_missing='skip', progress=False)
    with pytest.raises(ValueError, match='overlap'):
        convert_dubai_aerial(str(src), str(src / 'inside'), val_tiles=(), on_missing='skip', progress=False)
    # truncated image
    img = src / 'tile_1' / 'images' / names[1]
    img.write_bytes(img.read_bytes()[:2000])
    with pytest.raises(ValueError, match=names[1]):
        convert_dubai_aerial(str(src), str(tmp_path / 'o2'), val_tiles=(), on_missing='skip', progress=False)
    assert not (tmp_path / 'o2').exists()
    assert sorted(os.listdir(src / 'tile_1' / 'images')) == sorted(names)
    # missing / empty folders
    with pytest.raises(FileNotFoundError, match='absent'):
        convert_dubai_aerial(str(tmp_path / 'absent'), str(tmp_path / 'o3'), progress=False)
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(ValueError, match='empty'):
        convert_dubai_aerial(str(tmp_path / 'empty'), str(tmp_path / 'o3'), progress=False)


def test_dataset_missing_mask_and_orphan(converted, tmp_path):
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    out, _ = converted
    root = tmp_path / 'ds'
    shutil.copytree(out / 'img_dir' / 'val', root / 'img_dir')
    shutil.copytree(out / 'ann_dir' / 'val', root / 'ann_dir')
    victim = sorted(os.listdir(root / 'ann_dir'))[0]
    os.rename(root / 'ann_dir' / victim, root / 'ann_dir' / ('zz_' + victim))
    cfg = dict(
        type='DubaiAerialDataset',
        data_root=str(root),
        data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
        pipeline=[],
    )
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(FileNotFoundError, match=osp.splitext(victim)[0] + '.jpg'):
            DATASETS.build(cfg)
        with pytest.warns(UserWarning, match='skipped 1 image'):
            ds = DATASETS.build(dict(cfg, on_missing='skip'))
        assert len(ds) == len(os.listdir(root / 'img_dir')) - 1
        with pytest.raises(FileNotFoundError, match='nothere'):
            DATASETS.build(dict(cfg, data_prefix=dict(img_path='nothere', seg_map_path='ann_dir')))


def test_converter_cli(dubai_root, tmp_path):
    from ._helpers import run_tool

    src = tmp_path / 'src'
    _small_copy(dubai_root, str(src), n=1)
    r = run_tool(['tools/dataset_converters/dubai_aerial.py', str(src), '-o', str(tmp_path / 'o'), '--val-tiles'])
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(tmp_path / 'o' / 'ann_dir' / 'train')) == 1
    r = run_tool(['tools/dataset_converters/dubai_aerial.py', str(src), '-o', str(tmp_path / 'o'), '--val-tiles'])
    assert r.returncode != 0 and 'already exists' in r.stderr and 'Traceback' not in r.stderr
