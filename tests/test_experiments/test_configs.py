"""grass_mm.experiments.configs: the configs the sweep and the quickstart run. Pretraining backbones load into
every fine-tuning model; the fine-tuning recipe flags reach the built optimizer, hooks and backbone."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config

import grass_mm  # noqa: F401
from grass_mm.experiments import SweepError
from grass_mm.experiments.cli import parse_quickstart, parse_sweep
from grass_mm.experiments.configs import finetune_config, pretrain_config, update_transforms
from grass_mm.experiments.data import scaled_dubai

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
    args = parse_quickstart(['--depth', str(depth), '--decoder', decoder, '--size', '64', '--view-size', '32'])
    train = dict(dataset=dict(data_root=str(tmp_path), data_prefix=dict(img_path='img_dir/train')))
    data = dict(name='VTS', seg=dict(train_dataloader=train), num_classes=3, crop=(64, 64))
    grass = _build(pretrain_config('GraSS', args, data, 0), 'mmpretrain')
    assert type(grass).__name__ == 'GraSS' and grass.backbone.depth == depth
    ckpt = str(tmp_path / 'grass.pth')
    torch.save(dict(state_dict=grass.state_dict(), meta=dict()), ckpt)
    cfg = finetune_config('GraSS', args, data, ckpt)
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
    simclr = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/quickstart/simclr_resnet18_1xb16-coslr-200it_tiles-vts-64px.py')
    )
    grass = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py')
    )
    assert grass.train_cfg == simclr.train_cfg and grass.train_dataloader == simclr.train_dataloader
    assert grass.model.backbone == simclr.model.backbone and grass.model.neck == simclr.model.neck
    hook = [h for h in grass.custom_hooks if h.type == 'GraSSWarmupHook'][0]
    assert hook.warmup_iters == simclr.train_cfg.max_iters // 2
    fcn = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/fcn_r18_1xb4-150it_vts-128x128.py'))
    uper = Config.fromfile(osp.join(REPO_ROOT, 'configs/quickstart/upernet_r18_1xb4-150it_vts-128x128.py'))
    assert fcn.train_cfg == uper.train_cfg and fcn.train_dataloader == uper.train_dataloader
    assert uper.model.decode_head.type == 'UPerHead' and fcn.model.decode_head.type == 'FCNHead'


TINY = ['--pretrain-iters', '3', '--finetune-iters', '2', '--batch', '4', '--seg-batch', '2', '--size', '64']
TINY += ['--view-size', '32', '--workers', '0']


def test_finetune_recipe_reaches_the_optimizer(tmp_path):
    """--backbone-lr-mult and --finetune-lr as written, read back from the built optimizer's parameter groups;
    the frozen protocol freezes every backbone parameter and keeps BN statistics."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    args = parse_sweep(
        ['--backbone-lr-mult', '0.1', '--finetune-lr', '0.02', '--norm-eval', '--probe-iters', '1', *TINY]
    )
    data = scaled_dubai(str(tmp_path), 64)
    init_default_scope('mmseg')
    cfg = finetune_config('SimCLR', args, data, None, 'full', 0.5, 3)
    assert cfg.train_dataloader.dataset.type == 'LabelSubsetDataset' and cfg.train_dataloader.dataset.seed == 3
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    lrs = {}
    for g in optim.optimizer.param_groups:
        for p in g['params']:
            lrs[names[id(p)]] = g['lr']
    assert lrs and all(v == pytest.approx(0.002 if k.startswith('backbone.') else 0.02) for k, v in lrs.items())
    assert model.backbone.norm_eval is True
    assert dict(type='ProbeThenFinetuneHook', probe_iters=1) in cfg.custom_hooks
    # --tta: flips x scales around the sweep's test scale (2 x 64 px here), not around the raw image size
    resizes = cfg.tta_pipeline[1]['transforms'][0]
    assert [t['scale'] for t in resizes] == [(64, 64), (96, 96), (128, 128), (160, 160), (192, 192), (224, 224)]
    assert [t for t in cfg.val_dataloader.dataset.pipeline if t['type'] == 'Resize'][0]['scale'] == (128, 128)
    # all of the labels: no subset
    assert (
        finetune_config('SimCLR', args, data, None, 'full', 1.0, 3).train_dataloader.dataset.type
        == 'DubaiAerialDataset'
    )
    # random-init keeps the plain recipe: no multiplier, BN statistics trained, no probe
    plain = finetune_config('random-init', args, data, None, 'full', 0.5, 3)
    assert 'paramwise_cfg' not in plain.optim_wrapper and plain.model.backbone.get('norm_eval') is not True
    assert not any(h['type'] == 'ProbeThenFinetuneHook' for h in plain.get('custom_hooks', []))
    frozen = MODELS.build(finetune_config('SimCLR', args, data, None, 'frozen', 1.0, 0).model)
    frozen.train()
    assert not any(p.requires_grad for p in frozen.backbone.parameters())
    assert all(not m.training for m in frozen.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    # the frozen protocol does not take the full-fine-tuning multiplier
    assert 'paramwise_cfg' not in finetune_config('SimCLR', args, data, None, 'frozen', 1.0, 0).optim_wrapper


@pytest.mark.parametrize('method', ['SimCLR', 'random-init'])
def test_finetune_optimizer_and_bn_reestimation(tmp_path, method):
    """--finetune-optimizer adam gives every start (random-init too) mmengine's Adam at 1e-4 without weight decay,
    read back from the built optimizer; --reestimate-bn adds ReestimateBNHook to pretrained starts only."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    args = parse_sweep(['--finetune-optimizer', 'adam', '--reestimate-bn', *TINY])
    data = scaled_dubai(str(tmp_path), 64)
    init_default_scope('mmseg')
    cfg = finetune_config(method, args, data, None, 'full', 1.0, 0)
    optim = build_optim_wrapper(MODELS.build(cfg.model), cfg.optim_wrapper).optimizer
    assert type(optim).__name__ == 'Adam'
    assert {(g['lr'], g['weight_decay']) for g in optim.param_groups} == {(1e-4, 0.0)}
    hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] == 'ReestimateBNHook']
    expected = [dict(type='ReestimateBNHook', num_samples=50 * args.seg_batch)] if method != 'random-init' else []
    assert hooks == expected
    # the default stays the fine-tuning config's SGD 0.01
    plain = finetune_config(method, parse_sweep(TINY), data, None, 'full', 1.0, 0)
    assert dict(plain.optim_wrapper.optimizer) == dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)


def test_linear_protocol_and_the_linear_neck(tmp_path):
    """The linear probe: a 1x1 conv on the last stage at 10 x the learning rate, no auxiliary head; the neck
    ablation's config (LinearNeck) gets the backbone's channels at every depth."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    data = scaled_dubai(str(tmp_path), 64)
    linear = finetune_config('GraSS', parse_sweep(TINY), data, None, 'linear', 1.0, 0)
    head = linear.model.decode_head
    assert (head.type, head.num_convs, head.in_channels, head.in_index) == ('FCNHead', 0, 512, 3)
    assert linear.model.auxiliary_head is None and linear.optim_wrapper.optimizer.lr == pytest.approx(0.1)
    config = osp.join(
        REPO_ROOT,
        'configs',
        'quickstart',
        'simclr_resnet18_linear-neck_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py',
    )
    init_default_scope('mmpretrain')
    for depth, chans in ((18, 512), (50, 2048)):
        args = parse_sweep(['--pretrain-config', f'lin={config}', '--methods', 'lin', '--depth', str(depth)])
        cfg = pretrain_config('lin', args, data, 0)
        assert cfg.train_dataloader.dataset.tile_size == 128 and cfg.train_cfg.max_iters == 200
        model = MODELS.build(cfg.model)
        assert model.neck.fc.in_features == chans and model.neck.fc.out_features == 128


def test_update_transforms_reaches_nested_pipelines():
    pipeline = [dict(type='A'), dict(type='MultiView', transforms=[[dict(type='B', x=1)], [dict(type='B', x=2)]])]
    out = update_transforms(pipeline, 'B', x=5)
    assert [t['x'] for group in out[1]['transforms'] for t in group] == [5, 5] and pipeline[1]['transforms'][0][0][
        'x'
    ] == 1
    assert update_transforms(pipeline, 'C', required=False, y=1) == pipeline
    with pytest.raises(SweepError, match="no C transform to set \\['y'\\]"):
        update_transforms(pipeline, 'C', y=1)
