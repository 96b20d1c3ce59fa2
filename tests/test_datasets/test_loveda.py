"""LoveDA domains converter (official layout built from the real LoveDA crops) and configs."""

import os
import os.path as osp
import shutil
import zipfile

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import grass_mm  # noqa: F401
from grass_mm.datasets.converters import convert_loveda_domains

from ._helpers import REPO_ROOT

# (split, domain, crop id, has mask)
LAYOUT = [
    ('Train', 'Urban', '0', True),
    ('Train', 'Rural', '1', True),
    ('Train', 'Rural', '2', True),
    ('Val', 'Urban', '1', True),
    ('Val', 'Rural', '0', True),
    ('Test', 'Urban', '2', False),
]


def make_official(rs_tiles, root):
    """Official extracted layout ``Split/Domain/{images_png,masks_png}`` from the real crops."""
    for split, domain, i, has_mask in LAYOUT:
        for kind, sub in (('images_png', 'img_dir'), ('masks_png', 'ann_dir')):
            if kind == 'masks_png' and not has_mask:
                continue
            d = osp.join(root, split, domain, kind)
            os.makedirs(d, exist_ok=True)
            shutil.copy(osp.join(rs_tiles, 'loveda', sub, f'{i}.png'), d)
    for split in ('Train', 'Val', 'Test'):  # empty domain folders still exist officially
        for domain in ('Urban', 'Rural'):
            for kind in ('images_png', 'masks_png') if split != 'Test' else ('images_png',):
                os.makedirs(osp.join(root, split, domain, kind), exist_ok=True)
    return root


def zip_official(root, dst):
    os.makedirs(dst)
    for split in ('Train', 'Val', 'Test'):
        with zipfile.ZipFile(osp.join(dst, split + '.zip'), 'w') as z:
            for dirpath, _dirnames, files in os.walk(osp.join(root, split)):
                rel = osp.relpath(dirpath, root)
                z.write(dirpath, rel + '/')
                for f in files:
                    z.write(osp.join(dirpath, f), osp.join(rel, f))
    return dst


def _tree(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


@pytest.fixture(scope='module')
def official(rs_tiles, tmp_path_factory):
    return make_official(rs_tiles, str(tmp_path_factory.mktemp('loveda') / 'LoveDA'))


def test_convert_keeps_domains(rs_tiles, official, tmp_path):
    before = _tree(official)
    out = tmp_path / 'domains'
    stats = convert_loveda_domains(official, str(out), progress=False)
    assert stats == {
        ('urban', 'train'): 1,
        ('rural', 'train'): 2,
        ('urban', 'val'): 1,
        ('rural', 'val'): 1,
        ('urban', 'test'): 1,
    }
    for split, domain, i, has_mask in LAYOUT:
        dom, s = domain.lower(), split.lower()
        assert (out / dom / 'img_dir' / s / f'{i}.png').read_bytes() == open(
            osp.join(rs_tiles, 'loveda', 'img_dir', f'{i}.png'), 'rb'
        ).read()
        assert (out / dom / 'ann_dir' / s / f'{i}.png').exists() == has_mask
    # a file is only in its own domain
    assert not (out / 'urban' / 'img_dir' / 'train' / '1.png').exists()
    assert _tree(official) == before  # input untouched (mmseg's converter moves files)
    # the zips give the same output
    zips = zip_official(official, str(tmp_path / 'zips'))
    convert_loveda_domains(zips, str(tmp_path / 'from_zip'), progress=False)
    assert _tree(tmp_path / 'from_zip') == _tree(out)
    with pytest.raises(FileExistsError, match='domains'):
        convert_loveda_domains(official, str(out), progress=False)

    # the base configs read the converted domains
    from mmseg.registry import DATASETS

    with DefaultScope.overwrite_default_scope('mmseg'):
        for name, n in (('loveda_urban', 1), ('loveda_rural', 1), ('loveda', 2)):
            cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', name + '.py'))
            d = cfg.val_dataloader.dataset
            for sub in d.get('datasets', [d]):
                sub.data_root = str(out / sub.data_root.split('/')[-1])
            ds = DATASETS.build(d)
            assert len(ds) == n and ds.metainfo['classes'][1] == 'building'


def test_bad_inputs(official, tmp_path):
    src = tmp_path / 'bad'
    shutil.copytree(official, src)
    mask = src / 'Val' / 'Rural' / 'masks_png' / '0.png'
    m = np.asarray(Image.open(mask)).copy()
    m[0, 0] = 9
    Image.fromarray(m).save(mask)
    with pytest.raises(ValueError, match=r'0\.png has value\(s\) \[9\] outside 0\.\.7'):
        convert_loveda_domains(str(src), str(tmp_path / 'o'), progress=False)
    assert not (tmp_path / 'o').exists()
    os.remove(mask)
    with pytest.raises(FileNotFoundError, match=r'Val/Rural/images_png/0.png has no mask'):
        convert_loveda_domains(str(src), str(tmp_path / 'o'), progress=False)
    with pytest.warns(UserWarning, match='skipped 1 image'):
        convert_loveda_domains(str(src), str(tmp_path / 'o'), on_missing='skip', progress=False)
    shutil.rmtree(src / 'Val')
    with pytest.raises(FileNotFoundError, match='Val'):
        convert_loveda_domains(str(src), str(tmp_path / 'o2'), progress=False)
