"""The GraSS Swin-T / ConvNeXt-T / ViT-S/16 pretraining configs, and their checkpoints in the fine-tuning configs: the
chain GraSS Swin-T -> UPerNet-Swin-T with the patch-contrast head, GraSS ConvNeXt-T -> mmseg's UPerNet-ConvNeXt-T,
GraSS ResNet-50 -> UPerNet-R50 (full-size models, random weights, nothing run)."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import grass_mm  # noqa: F401
from grass_mm.selfsup.backbone_stages import stage_adapter

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GRASS = osp.join(REPO, 'configs/grass/grass_{}_8xb32-coslr-350e_tiles-potsdam.py')
CHAIN = osp.join(REPO, 'configs/patch_contrast/upernet_swin-t-grass-pre_patch-contrast_4xb4-80k_potsdam-512x512.py')


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


# pretraining config -> the fine-tuning config a user initialises from its checkpoint (ViT-S/16: no segmentation config
# takes mmpretrain's ViT; its keys are checked at tiny size in test_grass_backbones.py)
FINETUNE = {
    'swin-t': CHAIN,  # mmseg's own Swin, which loads the Pretrained checkpoint itself
    'convnext-t': 'mmseg::convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py',  # mmpretrain.ConvNeXt
    'resnet50': osp.join(REPO, 'configs/finetune/upernet_r50-grass-pre_8xb4-40k_potsdam-512x512.py'),
}


def finetune_config(name):
    from mmengine.hub import get_config

    path = FINETUNE[name]
    return get_config(path) if path.startswith('mmseg::') else Config.fromfile(path)


@pytest.mark.parametrize('name', sorted(FINETUNE))
def test_grass_checkpoint_initialises_the_segmentation_backbone(name, tmp_path, monkeypatch):
    """A GraSS checkpoint (full-size model, random weights) loads into the fine-tuning config's backbone the way a run
    loads it (the config's ``init_cfg``, ``model.init_weights()``): the loader sees zero missing and zero unexpected
    backbone keys, and every backbone weight is the checkpoint's."""
    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmseg.registry import MODELS

    grass = build_grass(name)
    path = str(tmp_path / f'grass_{name}.pth')
    torch.save(dict(state_dict=grass.state_dict(), meta=dict()), path)
    backbone_sd = {k[len('backbone.') :]: v for k, v in grass.state_dict().items() if k.startswith('backbone.')}
    del grass
    cfg = finetune_config(name)
    if name == 'swin-t':
        assert cfg.model.patch_contrast_head.type == 'PatchContrastHead'
    cfg.model.backbone.init_cfg.checkpoint = path
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(cfg.model)

    loads = []  # (missing, unexpected) of each load into the backbone
    mmengine_load, torch_load = mmengine_checkpoint.load_state_dict, torch.nn.Module.load_state_dict

    def recorded_mmengine_load(module, state_dict, *args, **kwargs):  # init_cfg Pretrained (with its prefix)
        if module is seg.backbone:
            loads.append((set(module.state_dict()) - set(state_dict), set(state_dict) - set(module.state_dict())))
        return mmengine_load(module, state_dict, *args, **kwargs)

    def recorded_torch_load(module, state_dict, *args, **kwargs):  # mmseg's Swin.init_weights
        result = torch_load(module, state_dict, *args, **kwargs)
        if module is seg.backbone:
            loads.append((set(result.missing_keys), set(result.unexpected_keys)))
        return result

    monkeypatch.setattr(mmengine_checkpoint, 'load_state_dict', recorded_mmengine_load)
    monkeypatch.setattr(torch.nn.Module, 'load_state_dict', recorded_torch_load)
    seg.init_weights()
    assert len(loads) == 1
    missing, unexpected = loads[0]
    assert missing == set()
    # mmseg's Swin strips 'backbone.' itself and passes the other keys on: only the GraSS neck's are left over
    assert {k for k in unexpected if not k.startswith('neck.')} == set()
    loaded = seg.backbone.state_dict()
    assert set(loaded) == set(backbone_sd)
    for k, v in backbone_sd.items():
        assert torch.equal(loaded[k], v), k
