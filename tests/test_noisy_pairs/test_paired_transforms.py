"""LoadImagePair / PairedViews: loading, pair mixing, shared geometry, bad input."""

import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from conftest import NOISE
from mmcv.transforms import Compose

GEOMETRIC = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), interpolation='nearest'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
]
# hue=0: mmcv 2.1 adjust_hue overflows on numpy 2 for negative hue factors (np.uint8(-4)).
PHOTOMETRIC = [
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0)],
        prob=0.8,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
]


def build(cfg):
    from mmpretrain.registry import TRANSFORMS

    return TRANSFORMS.build(cfg)


# ---------------------------------------------------------------- LoadImagePair
def test_load_pair_from_disk_and_memory(tmp_path, voronoi_pair, init_pretrain_scope):
    p = voronoi_pair(seed=1)
    a, b = str(tmp_path / 'pre.png'), str(tmp_path / 'post.png')
    mmcv.imwrite(p['img'], a)
    mmcv.imwrite(p['pair_img'], b)
    load = build(dict(type='LoadImagePair'))
    out = load(dict(img_path=a, pair_path=b, sample_idx=0))
    np.testing.assert_array_equal(out['img'], mmcv.imread(a))
    np.testing.assert_array_equal(out['pair_img'], mmcv.imread(b))
    assert out['img_shape'] == (64, 64) and out['ori_shape'] == (64, 64)
    # in-memory arrays are taken as they are (VTS on the fly); mixed memory + disk works
    out = load(dict(img=p['img'], pair_img=p['pair_img'], sample_idx=3))
    assert out['img'] is p['img'] and out['pair_img'] is p['pair_img']
    out = load(dict(img=p['img'], pair_path=b, sample_idx=3))
    np.testing.assert_array_equal(out['pair_img'], mmcv.imread(b))


def test_load_pair_bad_input(tmp_path, voronoi_pair, init_pretrain_scope):
    p = voronoi_pair(seed=2)
    a = str(tmp_path / 'a.png')
    mmcv.imwrite(p['img'], a)
    load = build(dict(type='LoadImagePair'))
    missing = str(tmp_path / 'no_such_partner.png')
    with pytest.raises(FileNotFoundError, match='no_such_partner.png'):
        load(dict(img_path=a, pair_path=missing))
    with pytest.raises(KeyError, match='pair_path'):
        load(dict(img_path=a, sample_idx=7))
    small = str(tmp_path / 'small.png')
    mmcv.imwrite(p['pair_img'][:48], small)
    with pytest.raises(ValueError, match='small.png') as e:
        load(dict(img_path=a, pair_path=small))
    assert 'a.png' in str(e.value) and 'size' in str(e.value)
    gray = str(tmp_path / 'gray.png')
    mmcv.imwrite(p['pair_img'][..., 0], gray)
    with pytest.raises(ValueError, match='band'):
        build(dict(type='LoadImagePair', color_type='unchanged'))(dict(img_path=a, pair_path=gray))
    with pytest.raises(ValueError, match='band'):
        load(dict(img=p['img'], pair_img=np.zeros((64, 64, 4), np.uint8)))
    bad = str(tmp_path / 'broken.png')
    with open(bad, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match='broken.png'):
        load(dict(img_path=a, pair_path=bad))


# ---------------------------------------------------------------- PairedViews
@pytest.mark.parametrize('prob', [-0.1, 1.5, 'half', None, True])
def test_pair_prob_out_of_range(prob, init_pretrain_scope):
    with pytest.raises(ValueError, match='pair_prob'):
        build(dict(type='PairedViews', pair_prob=prob))


def test_view2_from_partner_with_pair_prob(voronoi_pair, init_pretrain_scope):
    p = voronoi_pair(seed=3)
    always = build(dict(type='PairedViews', pair_prob=1.0))
    out = always(dict(img=p['img'], pair_img=p['pair_img']))
    np.testing.assert_array_equal(out['img'][0], p['img'])
    np.testing.assert_array_equal(out['img'][1], p['pair_img'])
    assert out['pair_used'] and 'pair_img' not in out
    never = build(dict(type='PairedViews', pair_prob=0.0))
    out = never(dict(img=p['img'], pair_img=p['pair_img']))
    np.testing.assert_array_equal(out['img'][1], p['img'])
    assert not out['pair_used']
    np.random.seed(0)
    half = build(dict(type='PairedViews', pair_prob=0.3))
    used = []
    for _ in range(500):
        out = half(dict(img=p['img'], pair_img=p['pair_img']))
        partner = np.array_equal(out['img'][1], p['pair_img'])
        assert partner == out['pair_used']
        used.append(partner)
    assert 0.22 < np.mean(used) < 0.38
    with pytest.raises(KeyError, match='pair_img'):
        always(dict(img=p['img'], sample_idx=0))


def _label_views(p, shared, seed):
    """Push the two label maps (as images) through the geometry of PairedViews."""
    np.random.seed(seed)
    t = build(dict(type='PairedViews', pair_prob=1.0, shared_geometry=shared, geometric=GEOMETRIC))
    enc = lambda lab: np.repeat((lab.astype(np.uint8) * 100)[..., None], 3, axis=2)  # noqa: E731
    out = t(dict(img=enc(p['label']), pair_img=enc(p['pair_label'])))
    v1, v2 = (v[..., 0].astype(np.int64) // 100 for v in out['img'])
    return v1, v2


def test_shared_geometry_keeps_correspondence(voronoi_pair, init_pretrain_scope):
    """Same crop/flip on both: label(view1, u, v) == label(view2, u, v) off the re-filled cells."""
    mismatch_shared, mismatch_indep = [], []
    for seed in range(20):
        p = voronoi_pair(seed=seed, r_img=0.25)
        v1, v2 = _label_views(p, True, seed)
        assert v1.shape == v2.shape == (32, 32)
        keep = v2 != NOISE
        assert keep.any()
        np.testing.assert_array_equal(v1[keep], v2[keep])
        # the re-filled cells really are re-filled where they land
        assert set(np.unique(v1[~keep])) <= {0, 1}
        mismatch_shared.append(np.mean(v1[keep] != v2[keep]))
        w1, w2 = _label_views(p, False, seed)
        k = w2 != NOISE
        mismatch_indep.append(np.mean(w1[k] != w2[k]))
    assert max(mismatch_shared) == 0
    # negative control: independent geometry breaks the correspondence
    assert np.mean(mismatch_indep) > 0.2


def test_shared_geometry_on_real_pixels_and_photometric_independent(voronoi_pair, init_pretrain_scope):
    p = voronoi_pair(seed=5)
    geo_only = build(dict(type='PairedViews', pair_prob=0.0, geometric=GEOMETRIC))
    for seed in range(10):
        np.random.seed(seed)
        out = geo_only(dict(img=p['img'], pair_img=p['pair_img']))
        np.testing.assert_array_equal(out['img'][0], out['img'][1])
    both = build(dict(type='PairedViews', pair_prob=0.0, geometric=GEOMETRIC, photometric=PHOTOMETRIC))
    differ = 0
    for seed in range(10):
        np.random.seed(seed)
        out = both(dict(img=p['img'], pair_img=p['pair_img']))
        differ += not np.array_equal(out['img'][0], out['img'][1])
    assert differ >= 5  # each view draws its own photometric augmentation


def test_pipeline_packs_for_mmpretrain(tmp_path, voronoi_pair, init_pretrain_scope):
    p = voronoi_pair(seed=6)
    a, b = str(tmp_path / 'x_pre.png'), str(tmp_path / 'x_post.png')
    mmcv.imwrite(p['img'], a)
    mmcv.imwrite(p['pair_img'], b)
    pipe = Compose(
        [
            build(c)
            for c in [
                dict(type='LoadImagePair'),
                dict(
                    type='PairedViews',
                    pair_prob=0.5,
                    geometric=GEOMETRIC,
                    photometric=[PHOTOMETRIC, PHOTOMETRIC + [dict(type='Solarize', thr=128, prob=0.2)]],
                ),
                dict(type='PackInputs'),
            ]
        ]
    )
    out = pipe(dict(img_path=a, pair_path=b, sample_idx=0))
    assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
    for x in out['inputs']:
        assert isinstance(x, torch.Tensor) and x.shape == (3, 32, 32) and x.dtype == torch.uint8
    assert out['data_samples'].img_path == a
    assert osp.basename(a) in repr(out['data_samples'])


def test_correspondence_on_vts_generator(init_pretrain_scope):
    """Real VTS pairs (issue 3 generator): same crop/flip -> identical labels AND identical
    pixels off the re-filled cells; the re-filled cells do differ."""
    vts = pytest.importorskip('grass_mm.datasets.vts')
    t = build(dict(type='PairedViews', pair_prob=1.0, shared_geometry=True, geometric=GEOMETRIC))
    for idx in range(6):
        s = vts.vts_sample(seed=0, index=idx, size=64, r_img=0.25)
        pair_label = np.where(s['noisy_cells'][s['cells']], NOISE, s['gt_seg_map'])
        v1, v2 = _label_views(dict(label=s['gt_seg_map'], pair_label=pair_label), True, idx)
        keep = v2 != NOISE
        np.testing.assert_array_equal(v1[keep], v2[keep])
        np.random.seed(idx)  # same draws as the label views above -> same crop / flip
        out = t(dict(img=s['img'], pair_img=s['noisy_img']))
        i1, i2 = out['img']
        np.testing.assert_array_equal(i1[keep], i2[keep])
        if (~keep).sum() > 20:
            assert np.mean(i1[~keep] != i2[~keep]) > 0.5
