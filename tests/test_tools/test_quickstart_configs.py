"""The configs tools/quickstart.py runs: pretraining backbones load into every fine-tuning model."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from test_runtime._tools import load_tool

import grass_mm  # noqa: F401

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _build(cfg, scope):
    from mmengine.registry import DefaultScope

    if scope == 'mmseg':
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules
    else:
        from mmpretrain.registry import MODELS
        from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('depth', [18, 50])
@pytest.mark.parametrize('decoder', ['fcn', 'upernet'])
def test_pretrained_backbone_loads_into_finetune_model(depth, decoder, tmp_path):
    qs = load_tool('tools/quickstart.py')
    args = qs.parse_args(['--depth', str(depth), '--decoder', decoder, '--size', '64', '--view-size', '32'])
    train = dict(dataset=dict(data_root=str(tmp_path), data_prefix=dict(img_path='img_dir/train')))
    data = dict(name='VTS', seg=dict(train_dataloader=train), num_classes=3, crop=(64, 64))
    grass = _build(qs.pretrain_config('GraSS', args, data, 0), 'mmpretrain')
    assert type(grass).__name__ == 'GraSS' and grass.backbone.depth == depth
    ckpt = str(tmp_path / 'grass.pth')
    torch.save(dict(state_dict=grass.state_dict(), meta=dict()), ckpt)
    cfg = qs.finetune_config('GraSS', args, data, ckpt)
    assert cfg.grass_mm_meta == dict(method='GraSS', dataset='VTS', protocol='full', fraction=1.0, seed=0)
    seg = _build(cfg, 'mmseg')
    seg.init_weights()  # loads the checkpoint's backbone.* through init_cfg
    for k, v in grass.backbone.state_dict().items():
        assert torch.equal(seg.backbone.state_dict()[k], v), k
    assert set(seg.backbone.state_dict()) == set(grass.backbone.state_dict())
    x = torch.rand(1, 3, 64, 64)
    assert seg.decode_head.num_classes == 3
    seg.eval()
    with torch.no_grad():
        out = seg(x, mode='tensor')
    assert out.shape[:2] == (1, 3)


def test_repo_quickstart_configs_are_plain_diffs():
    simclr = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/simclr_r18_quickstart_vts.py'))
    grass = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/grass_r18_quickstart_vts.py'))
    assert grass.train_cfg == simclr.train_cfg and grass.train_dataloader == simclr.train_dataloader
    assert grass.model.backbone == simclr.model.backbone and grass.model.neck == simclr.model.neck
    hook = [h for h in grass.custom_hooks if h.type == 'GraSSWarmupHook'][0]
    assert hook.warmup_iters == simclr.train_cfg.max_iters // 2
    fcn = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/fcn_r18_quickstart_vts.py'))
    uper = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/upernet_r18_quickstart_vts.py'))
    assert fcn.train_cfg == uper.train_cfg and fcn.train_dataloader == uper.train_dataloader
    assert uper.model.decode_head.type == 'UPerHead' and fcn.model.decode_head.type == 'FCNHead'
