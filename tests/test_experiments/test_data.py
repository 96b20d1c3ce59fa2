"""grass_mm.experiments.data and .work_dir: the data of a study, its folds; resuming, reusing, owning work dirs."""

import json
import os
import os.path as osp
import shutil

import pytest

from grass_mm.experiments import SweepError, SweepSettings
from grass_mm.experiments.data import data_roots, prepare_data, split_images, tile_folds
from grass_mm.experiments.paths import DEMO_DATA
from grass_mm.experiments.work_dir import MARKER, check_reuse, prepare_work_dir, undo_work_dir

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _raw_dubai(root, tiles=('tile_1', 'tile_6')):
    """Shipped demo tiles with one image each, in the raw Kaggle layout."""
    for tile in tiles:
        for sub, ext in (('images', '.jpg'), ('masks', '.png')):
            os.makedirs(osp.join(root, tile, sub))
            shutil.copy(osp.join(DEMO_DATA, tile, sub, 'image_part_001' + ext), osp.join(root, tile, sub))
    return str(root)


def test_demo_data_ship_with_the_package():
    assert DEMO_DATA == osp.join(REPO_ROOT, 'grass_mm', 'demo', 'dubai_aerial')
    tiles, chosen = tile_folds(SweepSettings(folds='tiles', fold_tiles=['tile_6', 'tile_2']))
    assert tiles == [f'tile_{i}' for i in range(1, 7)] and chosen == ['tile_2', 'tile_6']


def test_tile_folds_refusals(tmp_path):
    for settings, message in (
        (SweepSettings(folds='tiles', dataset_config='x.py'), 'needs the Dubai data'),
        (SweepSettings(folds='tiles', reuse_pretraining='x'), '--reuse-pretraining does not apply'),
        (SweepSettings(folds='tiles', data=str(tmp_path)), 'needs at least two tile_N/images folders'),
        (SweepSettings(folds='tiles', fold_tiles=['tile_9']), '--fold-tiles tile_9: no such tile'),
    ):
        with pytest.raises(SweepError, match=message):
            tile_folds(settings)


def test_raw_dubai_is_converted_into_the_work_dir_with_the_fold_held_out(tmp_path):
    src = _raw_dubai(tmp_path / 'raw')
    data = prepare_data(SweepSettings(data=src, size=64), str(tmp_path / 'w'), val_tile='tile_1')
    root = str(tmp_path / 'w' / 'data' / 'dubai_aerial')
    assert data['name'] == 'Dubai' and data['num_classes'] == 6 and data['crop'] == (64, 64)
    assert data_roots(data) == [root] * 3
    assert [osp.basename(p) for p in split_images(data['seg'], 'val')] == ['tile_1_image_part_001.jpg']
    assert [osp.basename(p) for p in split_images(data['seg'], 'train')] == ['tile_6_image_part_001.jpg']
    # a converted root is used where it is, with its own split
    again = prepare_data(SweepSettings(data=root, size=64, seg_scale=96), str(tmp_path / 'other'))
    assert data_roots(again) == [root] * 3 and not (tmp_path / 'other').exists()
    resize = [t for t in again['seg']['val_dataloader']['dataset']['pipeline'] if t['type'] == 'Resize']
    assert resize[0]['scale'] == (96, 96)
    with pytest.raises(SweepError, match='a converted root has a fixed split'):
        prepare_data(SweepSettings(data=root), str(tmp_path / 'x'), val_tile='tile_1')


@pytest.mark.parametrize(
    'settings, message',
    [
        (dict(data='no/such/folder'), '--data no/such/folder is not a folder'),
        (dict(data=REPO_ROOT + '/configs'), 'neither a converted root (img_dir/train) nor the raw Kaggle layout'),
        (dict(dataset_config='no_such.py'), '--dataset-config no_such.py does not exist'),
        (dict(dataset_config=REPO_ROOT + '/configs/_base_/default_runtime_seg.py'), 'lacks'),
    ],
)
def test_bad_data(tmp_path, settings, message):
    with pytest.raises(SweepError) as err:
        prepare_data(SweepSettings(**settings), str(tmp_path))
    assert message in str(err.value) and len(str(err.value).splitlines()) == 1


def test_work_dir_new_resumed_foreign_and_undone(tmp_path):
    s = SweepSettings()
    wd = tmp_path / 'sw'
    assert prepare_work_dir(str(wd), s) is False and os.listdir(wd) == [MARKER]
    (wd / 'results.csv').write_text('')
    assert prepare_work_dir(str(wd), s) is True
    undo_work_dir(str(wd), existed=True)
    assert wd.is_dir() and os.listdir(wd) == []
    undo_work_dir(str(wd), existed=False)
    assert not wd.exists()
    (tmp_path / 'file').write_text('')
    with pytest.raises(SweepError, match='is a file'):
        prepare_work_dir(str(tmp_path / 'file'), s)


def test_reuse_needs_a_sweep_with_the_same_pretraining(tmp_path):
    src = tmp_path / 'first'
    plan = dict(methods=['random-init', 'GraSS'], seeds=[0], reuse_pretraining=str(src))
    with pytest.raises(SweepError, match='not a sweep work dir'):
        check_reuse(SweepSettings(**plan))
    src.mkdir()
    (src / MARKER).write_text(json.dumps(SweepSettings(pretrain_iters=300).marker()))
    with pytest.raises(SweepError, match='pretrain_iters: 300 there, 200 here'):
        check_reuse(SweepSettings(**plan))
    # other fine-tuning settings are what reusing is for
    s = SweepSettings(pretrain_iters=300, finetune_iters=7, norm_eval=True, **plan)
    with pytest.raises(SweepError, match=r'no finished pretraining .*grass/seed0/iter_300.pth \(1 missing\)'):
        check_reuse(s)
    check_reuse(SweepSettings(pretrain_iters=300, report_only=True, **plan))  # lists it as not run
    ckpt = src / 'pretrain' / 'grass' / 'seed0' / 'iter_300.pth'
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b'')
    check_reuse(s)
