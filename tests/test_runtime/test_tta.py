"""Test-time augmentation: every fine-tuning config carries mmseg's ``tta_pipeline`` and ``tta_model``, the
pipelines keep the ground truth at the image's size, and ``tools/test.py --tta`` names a missing key in one line.

The end-to-end run (``tools/test.py --tta`` against the plain test on one checkpoint) is in test_train_tools.py,
beside the training run whose checkpoint it reuses.
"""

import glob
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import grass_mm  # noqa: F401

from ._tools import REPO_ROOT, load_tool, memoised_config_lookups

FINETUNE = (
    'finetune/*.py',
    'label_efficient/*.py',
    'patch_contrast/*.py',
    'pixel_anchor/*.py',
    'noisy_pairs/fcn_*.py',
    'quickstart/fcn_*.py',
    'quickstart/upernet_*.py',
    'smoke/fcn_*.py',
    'smoke/upernet_*.py',
)
CONFIGS = sorted(
    osp.relpath(p, REPO_ROOT) for pattern in FINETUNE for p in glob.glob(osp.join(REPO_ROOT, 'configs', pattern))
)
TEST_TOOL = load_tool('tools/test.py')


@pytest.fixture(scope='module', autouse=True)
def _parse_fast():
    with memoised_config_lookups():
        yield


def _build_pipeline(pipeline):
    from mmseg.registry import TRANSFORMS
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return [TRANSFORMS.build(t) for t in pipeline]


def test_the_grid_is_found():
    families = {p.split('/')[1] for p in CONFIGS}
    assert families == {
        'finetune',
        'label_efficient',
        'patch_contrast',
        'pixel_anchor',
        'noisy_pairs',
        'quickstart',
        'smoke',
    }
    assert len(CONFIGS) >= 60


@pytest.mark.parametrize('rel', CONFIGS, ids=[p[len('configs/') : -3] for p in CONFIGS])
def test_finetune_config_has_tta(rel):
    from mmseg.models import SegTTAModel
    from mmseg.registry import MODELS

    cfg = Config.fromfile(osp.join(REPO_ROOT, rel), import_custom_modules=False)
    assert issubclass(MODELS.get(cfg.tta_model.type), SegTTAModel)
    loader, aug = _build_pipeline(cfg.tta_pipeline)
    assert type(aug).__name__ == 'TestTimeAug' and len(aug.subroutines) >= 2  # flip at least
    # the TTA reads images as the plain test does (the checked loader on real data)
    for dataset in TEST_TOOL.leaf_datasets(cfg.test_dataloader.dataset):
        assert type(loader).__name__ == dataset.pipeline[0]['type'], rel


def test_vts_on_the_fly_tta_keeps_the_mask():
    """The generated VTS items carry their mask in memory: its TTA flips only, the first view is unflipped."""
    from mmseg.registry import DATASETS

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/_base_/datasets/vts.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, num_samples=1, size=64, pipeline=cfg.tta_pipeline))
        plain = DATASETS.build(dict(cfg.test_dataloader.dataset, num_samples=1, size=64))[0]
    item = dataset[0]
    assert len(item['inputs']) == 2
    gt = plain['data_samples'].gt_sem_seg.data
    assert (item['data_samples'][0].gt_sem_seg.data == gt).all()  # SegTTAModel scores against the first view
    assert (item['inputs'][0] == plain['inputs']).all() and (item['inputs'][1] == plain['inputs'].flip(-1)).all()


def test_potsdam_tta_on_the_real_crop(rs_tiles):
    """mmseg's 6 scales x flip with the checked loaders: each view loads the mask at the scene's size."""
    from mmseg.registry import DATASETS

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/_base_/datasets/potsdam.py'))
    ds_cfg = dict(
        cfg.test_dataloader.dataset,
        data_root=osp.join(rs_tiles, 'potsdam'),
        data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
        pipeline=cfg.tta_pipeline,
    )
    with DefaultScope.overwrite_default_scope('mmseg'):
        item = DATASETS.build(ds_cfg)[0]
    assert len(item['inputs']) == 2 * len(cfg.img_ratios)
    sizes = sorted({tuple(x.shape[1:]) for x in item['inputs']})
    assert sizes == [(round(512 * r), round(512 * r)) for r in sorted(cfg.img_ratios)]
    masks = [s.gt_sem_seg.data for s in item['data_samples']]
    assert all(m.shape == (1, 512, 512) and (m == masks[0]).all() for m in masks)
    assert set(np.unique(masks[0].numpy())) <= set(range(6)) | {255}  # reduce_zero_label of the dataset


def test_tool_names_a_missing_tta_key(tmp_path, capsys):
    """A config without ``tta_pipeline`` (e.g. one written before this change) stops with one ``error:`` line."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py'), import_custom_modules=False
    )
    cfg = cfg.to_dict()
    cfg.pop('tta_pipeline')
    path = str(tmp_path / 'no_tta.py')
    Config(cfg).dump(path)
    with pytest.raises(SystemExit) as stop:
        TEST_TOOL.enable_tta(Config.fromfile(path, import_custom_modules=False), path)
    assert stop.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: ') and path in err[0] and "'tta_pipeline'" in err[0]
    assert 'tta_model' not in err[0].split(' in config ')[0]  # only the key that is missing


def test_tta_pipeline_reaches_every_dataset_of_a_concat():
    """LoveDA Urban + Rural (a ConcatDataset): both domains get the TTA pipeline, the model gets wrapped."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/_base_/datasets/loveda.py'))
    cfg.merge_from_dict(dict(model=dict(type='EncoderDecoder'), tta_model=dict(type='SegTTAModel')))
    TEST_TOOL.enable_tta(cfg, 'loveda.py')
    leaves = TEST_TOOL.leaf_datasets(cfg.test_dataloader.dataset)
    assert [d.type for d in leaves] == ['LoveDAUrbanDataset', 'LoveDARuralDataset']
    assert all(d.pipeline == cfg.tta_pipeline for d in leaves) and 'pipeline' not in cfg.test_dataloader.dataset
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module.type == 'EncoderDecoder'
