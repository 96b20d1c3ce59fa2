"""GraSS checkpoint -> UPerNet / FCN fine-tuning configs: zero missing/unexpected keys, runs."""

import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import grass_mm  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GRASS_CFG = osp.join(REPO, 'configs/grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py')
FT = osp.join(REPO, 'configs/finetune/{}_r50-grass-pre_8xb4{}-40k_potsdam-512x512.py')


@pytest.fixture(scope='module')
def grass_ckpt(tmp_path_factory):
    """A GraSS ResNet-50 pretraining checkpoint built from the paper config (random weights)."""
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(GRASS_CFG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('grass') / 'grass_r50.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path, {k[len('backbone.') :]: v for k, v in model.state_dict().items() if k.startswith('backbone.')}


@pytest.mark.parametrize('head', ['upernet', 'fcn'])
def test_checkpoint_loads_with_zero_missing_and_unexpected_keys(grass_ckpt, head):
    from mmseg.registry import MODELS

    path, backbone_sd = grass_ckpt
    cfg = Config.fromfile(FT.format(head, ''))
    cfg.model.backbone.init_cfg.checkpoint = path
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(cfg.model)
    target = seg.backbone.state_dict()
    missing = sorted(set(target) - set(backbone_sd))
    unexpected = sorted(set(backbone_sd) - set(target))
    assert missing == [] and unexpected == [], (missing[:5], unexpected[:5])
    seg.init_weights()
    for k, v in seg.backbone.state_dict().items():
        assert torch.equal(v, backbone_sd[k]), k


def _tiny_run_cfg(cfg_path, ckpt, rs_tiles, work_dir):
    cfg = Config.fromfile(cfg_path)
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    cfg.model.data_preprocessor.size = (64, 64)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='RandomCrop', crop_size=(64, 64)),
        dict(type='PackSegInputs'),
    ]
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(
            type='PotsdamDataset',
            data_root=osp.join(rs_tiles, 'potsdam'),
            data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
            pipeline=pipeline,
        ),
    )
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1000)
    cfg.param_scheduler = []
    for k in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[k] = None
    cfg.default_hooks.checkpoint.interval = 1000
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.parametrize('head', ['upernet', 'fcn'])
def test_frozen_variant_freezes_the_pretrained_backbone(grass_ckpt, head):
    from mmseg.registry import MODELS

    path, backbone_sd = grass_ckpt
    cfg = Config.fromfile(FT.format(head, '-frozen'))
    cfg.model.backbone.init_cfg.checkpoint = path
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = MODELS.build(cfg.model)
    seg.init_weights()
    seg.train()
    assert not any(p.requires_grad for p in seg.backbone.parameters())
    assert not any(m.training for m in seg.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    assert all(p.requires_grad for p in seg.decode_head.parameters())
    assert torch.equal(seg.backbone.state_dict()['layer4.2.conv3.weight'], backbone_sd['layer4.2.conv3.weight'])


@pytest.mark.parametrize('head,frozen', [('fcn', '')])
def test_finetuning_runs_from_the_checkpoint(grass_ckpt, rs_tiles, tmp_path, head, frozen):
    path, backbone_sd = grass_ckpt
    runner = Runner.from_cfg(_tiny_run_cfg(FT.format(head, frozen), path, rs_tiles, tmp_path))
    head_before = copy.deepcopy(runner.model.decode_head.state_dict())
    runner.train()
    after = runner.model.backbone.state_dict()
    conv1_same = torch.equal(after['conv1.weight'], backbone_sd['conv1.weight'])
    layer4_same = torch.equal(after['layer4.2.conv3.weight'], backbone_sd['layer4.2.conv3.weight'])
    if frozen:  # the frozen variant keeps the pretrained backbone bit for bit
        assert conv1_same and layer4_same
        assert all(torch.equal(after[k], v) for k, v in backbone_sd.items())
    else:  # loaded, then fine-tuned
        assert not layer4_same
    head_after = runner.model.decode_head.state_dict()
    assert any(not torch.equal(head_after[k], v) for k, v in head_before.items() if v.dtype.is_floating_point)
