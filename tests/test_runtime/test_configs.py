"""Base configs compose by relative path and by the mmseg:: / mmpretrain:: prefixes."""

import pytest
from mmengine.config import Config

import grass_mm  # noqa: F401
from grass_mm.runtime import ConfigCheckError, check_config


def test_relative_bases_build_model():
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile('configs/smoke/upernet_r18_1xb2-4it_potsdam-128x128.py')
    assert cfg.default_scope == 'mmseg' and cfg.custom_imports['imports'] == ['grass_mm']
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'ResNet' and model.backbone.depth == 18
    assert type(model.decode_head).__name__ == 'UPerHead'


def test_mmseg_prefix_bases():
    cfg = Config.fromfile('configs/smoke/fcn_r18-d8_1xb2-2it_potsdam-128x128.py')
    # model and schedule come from mmseg's own configs, runtime from grass_mm
    assert cfg.model.backbone.type == 'ResNetV1c' and cfg.model.decode_head.type == 'FCNHead'
    assert cfg.param_scheduler[0]['type'] == 'PolyLR' and cfg.train_cfg.max_iters == 2
    assert cfg.custom_hooks[0]['type'] == 'PlainCheckpointHook'
    assert cfg.tta_model.type == 'SegTTAModel'  # from mmseg::_base_/default_runtime.py


def test_mmpretrain_prefix_runtime():
    cfg = Config.fromfile('configs/_base_/default_runtime_selfsup.py')
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.visualizer.type == 'UniversalVisualizer'  # from mmpretrain::_base_/default_runtime.py


def test_check_config_accepts_smoke_and_names_bad_key(rs_tiles):
    cfg = Config.fromfile('configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py')
    check_config(cfg)
    cfg.model.backbone.norm_cfg.type = 'BatchNormTypo'
    with pytest.raises(ConfigCheckError, match=r'model\.backbone\.norm_cfg\.type'):
        check_config(cfg)
