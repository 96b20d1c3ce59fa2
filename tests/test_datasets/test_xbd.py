"""xBD: WKT rasterization, converter, segmentation and pair datasets on a fixture in the
official layout (tests/test_datasets/_xbd_fixture.py)."""

import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from grass_mm.datasets.converters import convert_xbd
from grass_mm.datasets.xbd_labels import load_xbd_label, parse_wkt_polygons, xbd_label_to_mask

from ._xbd_fixture import DISASTER, IDS, MULTI, H, W, make_xbd, reference_masks


def test_parse_wkt_rings_and_multipolygon():
    polys = parse_wkt_polygons(MULTI)
    assert len(polys) == 2 and polys[0][0].shape == (5, 2)
    holed = parse_wkt_polygons('POLYGON ((0 0, 4 0, 4 4, 0 0), (1 1, 2 1, 2 2, 1 1))')
    assert len(holed) == 1 and len(holed[0]) == 2
    with pytest.raises(ValueError, match='LINESTRING'):
        parse_wkt_polygons('LINESTRING (0 0, 1 1)')


def test_rasterize_matches_geometry(tmp_path):
    paths = make_xbd(str(tmp_path))
    building_ref, damage_ref = reference_masks()
    pre = load_xbd_label(paths[(IDS[0], 'pre')].replace('images', 'labels').replace('.png', '.json'))
    post = load_xbd_label(paths[(IDS[0], 'post')].replace('images', 'labels').replace('.png', '.json'))
    mask, counts = xbd_label_to_mask(pre, H, W, 'building')
    assert np.array_equal(mask, building_ref) and counts == {'building': 4}
    mask, counts = xbd_label_to_mask(post, H, W, 'damage')
    assert np.array_equal(mask, damage_ref)
    assert counts == {'no-damage': 1, 'destroyed': 1, 'un-classified': 1, 'minor-damage': 1}
    assert set(np.unique(mask)) == {0, 1, 2, 4, 255}


def test_bad_labels_name_the_file(tmp_path):
    paths = make_xbd(str(tmp_path))
    lab = paths[(IDS[0], 'post')].replace('images', 'labels').replace('.png', '.json')
    d = json.load(open(lab))
    d['features']['xy'][0]['properties']['subtype'] = 'flooded'
    json.dump(d, open(lab, 'w'))
    with pytest.raises(ValueError, match='flooded'):
        xbd_label_to_mask(load_xbd_label(lab), H, W, 'damage', source=lab)
    open(lab, 'w').write('{"features": ')  # truncated JSON
    with pytest.raises(ValueError, match=osp.basename(lab)):
        load_xbd_label(lab)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_xbd_label(str(tmp_path / 'nope.json'))


@pytest.mark.parametrize('task', ['building', 'damage'])
def test_converter_and_seg_dataset(tmp_path, task):
    src = tmp_path / 'xbd'
    paths = make_xbd(str(src))
    before = sorted(os.listdir(src / 'train' / 'images'))
    out = tmp_path / 'out'
    stats = convert_xbd(str(src), str(out), task=task, progress=False)
    assert stats['train']['images'] == len(IDS)
    phase = 'pre' if task == 'building' else 'post'
    ref = reference_masks()[0 if task == 'building' else 1]
    for uid in IDS:
        name = f'{DISASTER}_{uid}_{phase}_disaster.png'
        assert np.array_equal(np.asarray(Image.open(out / 'ann_dir' / 'train' / name)), ref)
        assert (out / 'img_dir' / 'train' / name).read_bytes() == open(paths[(uid, phase)], 'rb').read()
    assert sorted(os.listdir(src / 'train' / 'images')) == before  # input untouched
    with pytest.raises(FileExistsError, match='out'):
        convert_xbd(str(src), str(out), task=task, progress=False)

    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    typ = 'XBDSegDataset' if task == 'building' else 'XBDDamageSegDataset'
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(
            dict(
                type=typ,
                data_root=str(out),
                data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')],
            )
        )
    assert len(ds) == len(IDS)
    assert len(ds.metainfo['classes']) == (2 if task == 'building' else 5)
    seg = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert np.array_equal(seg, ref)


def test_pair_dataset_matches_by_id(tmp_path):
    from ._helpers import build_pretrain_dataset

    make_xbd(str(tmp_path), ids=('00000007', '00000003', '00000012'))
    ds = build_pretrain_dataset(dict(type='XBDPairDataset', data_root=str(tmp_path), splits='train'))
    assert len(ds) == 3
    for i in range(3):
        info = ds.get_data_info(i)
        pre, post = osp.basename(info['img_path']), osp.basename(info['pair_path'])
        assert pre.endswith('_pre_disaster.png') and post.endswith('_post_disaster.png')
        assert pre.replace('_pre_', '_') == post.replace('_post_', '_')
        assert info['xbd_id'] in pre and info['sample_idx'] == i


def test_pair_errors(tmp_path):
    from ._helpers import build_pretrain_dataset

    paths = make_xbd(str(tmp_path / 'a'), post_size=(40, 50))
    with pytest.raises(ValueError, match='sizes differ.*_pre_disaster.png.*_post_disaster.png'):
        build_pretrain_dataset(dict(type='XBDPairDataset', data_root=str(tmp_path / 'a')))
    paths = make_xbd(str(tmp_path / 'b'))
    os.remove(paths[(IDS[1], 'post')])
    lonely = osp.basename(paths[(IDS[1], 'pre')])
    with pytest.raises(FileNotFoundError, match=lonely):
        build_pretrain_dataset(dict(type='XBDPairDataset', data_root=str(tmp_path / 'b')))
    with pytest.warns(UserWarning, match='skipped 1 xBD image'):
        ds = build_pretrain_dataset(dict(type='XBDPairDataset', data_root=str(tmp_path / 'b'), on_missing='skip'))
    assert len(ds) == 1
    with pytest.raises(FileNotFoundError, match='missing_split'):
        build_pretrain_dataset(dict(type='XBDPairDataset', data_root=str(tmp_path / 'b'), splits='missing_split'))


def test_converter_failure_leaves_no_output(tmp_path):
    src = tmp_path / 'xbd'
    paths = make_xbd(str(src))
    bad = paths[(IDS[1], 'pre')]
    open(bad, 'r+b').truncate(60)  # truncated PNG
    with pytest.raises(ValueError, match=osp.basename(bad)):
        convert_xbd(str(src), str(tmp_path / 'out'), progress=False)
    assert sorted(os.listdir(tmp_path)) == ['xbd']  # no output, no staging folder
    with pytest.raises(FileNotFoundError, match='absent'):
        convert_xbd(str(tmp_path / 'absent'), str(tmp_path / 'out2'), progress=False)
