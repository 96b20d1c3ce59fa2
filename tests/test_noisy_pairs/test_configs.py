"""configs/noisy_pairs: every config parses, its pair pipeline builds and runs on a VTS-like pair,
dense methods get shared geometry, MoCo v2 independent geometry, the FCN eval is frozen."""

import glob
import os.path as osp

import pytest
from conftest import make_voronoi_pair

CFG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'noisy_pairs')
PRETRAIN = sorted(glob.glob(osp.join(CFG_DIR, '*-pairs.py')))


def test_all_methods_and_datasets_present():
    names = [osp.basename(p) for p in PRETRAIN]
    for m in ('mocov2', 'densecl', 'grass', 'pixel-pair'):
        for ds in ('vts', 'xbd'):
            assert any(n.startswith(m + '_') and n.endswith(f'_{ds}-pairs.py') for n in names), (m, ds)


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_pretrain_config_pipeline(path, init_pretrain_scope):
    from mmcv.transforms import Compose
    from mmengine.config import Config
    from mmpretrain.registry import MODELS, TRANSFORMS

    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain' and 'grass_mm' in cfg.custom_imports.imports
    assert MODELS.get(cfg.model.type) is not None
    pipeline = cfg.train_dataloader.dataset.pipeline
    paired = [t for t in pipeline if t['type'] == 'PairedViews']
    assert len(paired) == 1
    assert paired[0]['shared_geometry'] == (cfg.model.type != 'MoCo')
    pipe = Compose([TRANSFORMS.build(t) for t in pipeline])
    p = make_voronoi_pair(seed=9, size=256)
    out = pipe(dict(img=p['img'], pair_img=p['pair_img'], sample_idx=0))
    assert [tuple(x.shape) for x in out['inputs']] == [(3, 224, 224)] * 2


@pytest.mark.parametrize(
    'name,frozen',
    [
        ('fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py', True),
        ('fcn_r50-pixel-pair-pre_1xb8-4k_vts-256x256.py', False),
    ],
)
def test_eval_configs(name, frozen):
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    bb = cfg.model.backbone
    assert bb.type == 'ResNet' and bb.depth == 50 and not bb.get('deep_stem', False)
    assert (bb.frozen_stages, bb.norm_eval) == ((4, True) if frozen else (-1, False))
    assert bb.init_cfg.type == 'Pretrained' and bb.init_cfg.prefix == 'backbone.'
    assert cfg.model.decode_head.type == 'FCNHead' and cfg.model.decode_head.num_classes == 2
    assert cfg.model.auxiliary_head is None
    assert cfg.param_scheduler[0]['end'] == cfg.train_cfg.max_iters
