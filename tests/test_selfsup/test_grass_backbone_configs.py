"""The GraSS Swin-T / ConvNeXt-T / ViT-S/16 pretraining configs, and the chain GraSS Swin-T -> UPerNet-Swin-T with
the patch-contrast head (full-size models, random weights, nothing run)."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import grass_mm  # noqa: F401
from grass_mm.selfsup.backbone_stages import stage_adapter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GRASS = osp.join(REPO, 'configs/grass/grass_{}_8xb32-coslr-350e_tiles-potsdam.py')
CHAIN = osp.join(REPO, 'configs/patch_contrast/upernet_swin-t_grass-pretrain_patch-contrast_potsdam-512x512-80k.py')


def build_grass(name):
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(Config.fromfile(GRASS.format(name)).model)


@pytest.mark.parametrize(
    'name,backbone,stages,stride',
    [
        ('swin-t', 'SwinTransformer', 4, 32),
        ('convnext-t', 'ConvNeXt', 4, 32),
        ('vit-s-p16', 'VisionTransformer', 12, 16),
    ],
)
def test_backbone_configs_build(name, backbone, stages, stride):
    model = build_grass(name)
    assert type(model.backbone).__name__ == backbone
    assert stage_adapter(model.backbone).num_stages(model.backbone) == stages
    assert model.gs_stage == stages - 1 and model.feat_stride == stride


def test_swin_t_grass_checkpoint_initialises_upernet_swin_patch_contrast(tmp_path):
    from mmseg.registry import MODELS

    grass = build_grass('swin-t')
    path = str(tmp_path / 'grass_swin-t.pth')
    torch.save(dict(state_dict=grass.state_dict(), meta=dict()), path)
    backbone_sd = {k[len('backbone.') :]: v for k, v in grass.state_dict().items() if k.startswith('backbone.')}
    cfg = Config.fromfile(CHAIN)
    assert cfg.model.patch_contrast_head.type == 'PatchContrastHead'
    cfg.model.backbone.init_cfg.checkpoint = path
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(cfg.model)
    target = seg.backbone.state_dict()
    missing, unexpected = set(target) - set(backbone_sd), set(backbone_sd) - set(target)
    assert missing == {f'norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')} and unexpected == set()
    seg.backbone.init_weights()  # mmseg's Swin loads the Pretrained checkpoint itself
    loaded = seg.backbone.state_dict()
    for k, v in backbone_sd.items():
        assert torch.equal(loaded[k], v), k
