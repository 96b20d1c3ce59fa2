"""GraSS on mmpretrain backbones beyond ResNet: ResNet family, Swin, ConvNeXt, ViT (tiny widths, 64-px views).

For each family: the stage-wise forward equals the backbone's ``forward``; the guidance pass's LAM (no graph through
the stages up to ``gs_stage``) equals the LAM of a full autograd pass through the whole backbone, with identical DAR
boxes; built with all four outputs (as the Swin-T / ConvNeXt-T configs), GraSS trains the last output only and keeps
the LAM, and a pretraining checkpoint loads into the matching segmentation backbone (mmseg's own, or mmpretrain's
class used from mmseg as mmseg's ConvNeXt configs do) with zero missing and zero unexpected keys.
"""

import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from grass_mm.selfsup.backbone_stages import forward_from, forward_to, stage_adapter
from grass_mm.selfsup.grass_functional import dar_boxes, loss_attention_map

from _grass_helpers import random_views, small_grass_cfg

CONVNEXT = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
SWIN = dict(embed_dims=16, depths=[1, 1, 2, 1], num_heads=[1, 2, 2, 4])
BACKBONES = {  # family: (pretraining backbone, channels of its last stage, segmentation backbone)
    'resnet18': (
        dict(type='ResNet', depth=18, base_channels=16, stem_channels=16),
        128,
        dict(type='ResNet', depth=18, base_channels=16, stem_channels=16),
    ),
    'resnet18-v1c': (
        dict(type='ResNetV1c', depth=18, base_channels=16, stem_channels=16),
        128,
        dict(type='mmpretrain.ResNetV1c', depth=18, base_channels=16, stem_channels=16),  # mmseg's deep stem differs
    ),
    'swin': (
        dict(type='SwinTransformer', arch=SWIN, img_size=64, window_size=2, drop_path_rate=0.0),
        128,
        dict(type='SwinTransformer', pretrain_img_size=64, window_size=2, drop_path_rate=0.0, **SWIN),
    ),
    'convnext': (
        dict(type='ConvNeXt', arch=CONVNEXT, drop_path_rate=0.0, gap_before_final_norm=False),
        64,
        dict(type='mmpretrain.ConvNeXt', arch=CONVNEXT, gap_before_final_norm=False),
    ),
    'vit': (
        dict(
            type='VisionTransformer',
            arch=dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64),
            img_size=64,
            patch_size=16,
            out_type='featmap',
        ),
        32,
        dict(
            type='mmpretrain.VisionTransformer',
            arch=dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64),
            img_size=64,
            patch_size=16,
            out_type='featmap',
        ),
    ),
}


def grass(family, gs_stage=-1, out_indices=None, **kwargs):
    backbone, channels, _ = BACKBONES[family]
    n = 4
    backbone = dict(backbone, out_indices=out_indices or (n - 1,))
    cfg = small_grass_cfg(backbone=backbone, gs_stage=gs_stage, guide_channels_last=False, **kwargs)
    cfg['neck'] = dict(cfg['neck'], in_channels=channels)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg).train()


@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_stage_wise_forward_equals_the_backbones(family):
    model = grass(family, out_indices=(0, 1, 2, 3))
    bb, adapter = model.backbone, stage_adapter(model.backbone)
    x = torch.randn(2, 3, 64, 64)
    ref = bb(x)
    for stage in range(4):
        outs, state = forward_to(adapter, bb, x, stage)
        feat = adapter.feature(bb, state)
        assert feat.dim() == 4 and feat.shape[-1] == 64 // adapter.stride(bb, stage), (stage, feat.shape)
        got = forward_from(adapter, bb, outs, adapter.with_feature(bb, state, feat), stage)
        assert len(got) == len(ref)
        for a, b in zip(got, ref, strict=True):
            torch.testing.assert_close(a, b)


def _reference_hook_module(family, bb, stage):
    """The module whose output is A in the backbone's own forward."""
    if family.startswith('resnet'):
        return getattr(bb, bb.res_layers[stage])
    if family == 'vit':
        return bb.ln1 if stage == len(bb.layers) - 1 and bb.final_norm else bb.layers[stage]
    return bb.stages[stage]


def _as_map(family, bb, tokens, hw):
    if family == 'vit':
        tokens = tokens[:, bb.num_extra_tokens :]
    if tokens.dim() == 3:  # (B, h*w, C) -> (B, C, h, w)
        return tokens.transpose(1, 2).reshape(tokens.size(0), -1, *hw)
    return tokens


@pytest.mark.parametrize('gs_stage', [1, -1])
@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_lam_equals_full_autograd_reference(family, gs_stage):
    model = grass(family, gs_stage=gs_stage)
    views = model._interleave(random_views(n=4, size=64, seed=1))
    crops, lam, boxes = model.guided_crops(views, return_maps=True)
    # reference: one forward and backward through the whole backbone, dL/dA kept by a hook
    bb, stage = model.backbone, model.gs_stage
    store = {}

    def keep(module, inputs, out):
        t = out[0] if isinstance(out, tuple) else out
        t.retain_grad()
        store.update(t=t, hw=out[1] if isinstance(out, tuple) else None)

    handle = _reference_hook_module(family, bb, stage).register_forward_hook(keep)
    model.zero_grad(set_to_none=True)
    model.contrastive_loss(bb(views)).backward()
    handle.remove()
    hw = store['hw'] or (64 // 16, 64 // 16)
    A, G = _as_map(family, bb, store['t'].detach(), hw), _as_map(family, bb, store['t'].grad, hw)
    ref = loss_attention_map(A, G, size=(64, 64), norm=model.lam_norm)
    torch.testing.assert_close(lam, ref, rtol=1e-4, atol=1e-5)
    assert torch.equal(boxes, dar_boxes(ref, model.threshold, backend='host'))
    assert (boxes != torch.tensor([0, 0, 63, 63])).any()  # some view really cropped
    # the guidance pass left no parameter gradient behind
    model.zero_grad(set_to_none=True)
    model.guided_crops(views)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_gs_step_trains(family):
    model = grass(family, gs_enabled=True)
    loss = model.loss(random_views(n=3, size=64), None)['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.backbone.parameters() if p.requires_grad)


ALL_OUTPUTS = (0, 1, 2, 3)  # the segmentation backbones' out_indices, and the Swin-T / ConvNeXt-T pretraining's


@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_all_outputs_train_only_the_last_and_keep_the_lam(family):
    """A pretraining backbone built with all four outputs (as the Swin-T / ConvNeXt-T configs, for a checkpoint with
    every key of the segmentation backbone): the LAM and the DAR boxes are those of the single-output backbone with the
    same weights, the neck gets the last output, and every backbone parameter gets a gradient in a GS step except the
    other outputs' norms (Swin, ConvNeXt: ``norm0-2``), which are frozen, so DDP finds no unused parameter."""
    one, every = grass(family, gs_stage=1), grass(family, gs_stage=1, out_indices=ALL_OUTPUTS)
    missing, unexpected = every.load_state_dict(one.state_dict(), strict=False)
    frozen = {f'backbone.norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')}
    frozen = frozen if family in ('swin', 'convnext') else set()
    assert unexpected == [] and set(missing) == frozen
    assert {n for n, p in every.named_parameters() if not p.requires_grad} == frozen
    views = one._interleave(random_views(n=4, size=64, seed=1))
    _, lam_one, boxes_one = one.guided_crops(views, return_maps=True)
    _, lam, boxes = every.guided_crops(views, return_maps=True)
    torch.testing.assert_close(lam, lam_one)
    assert torch.equal(boxes, boxes_one)
    every.gs_enabled = True
    every.loss(random_views(n=3, size=64), None)['loss'].backward()
    assert {n for n, p in every.named_parameters() if p.requires_grad and p.grad is None} == set()


@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_checkpoint_loads_into_the_segmentation_backbone(family):
    """The pretraining's ``backbone.*`` keys, its backbone built with all four outputs as the Swin-T / ConvNeXt-T
    configs do, load into the segmentation backbone (4 outputs, as UPerNet's) with zero missing and zero unexpected
    keys, every shape equal."""
    from mmseg.registry import MODELS as SEG_MODELS

    pretrain = grass(family, out_indices=ALL_OUTPUTS)
    sd = {k[len('backbone.') :]: v for k, v in pretrain.state_dict().items() if k.startswith('backbone.')}
    with DefaultScope.overwrite_default_scope('mmseg'):
        seg = SEG_MODELS.build(dict(BACKBONES[family][2], out_indices=ALL_OUTPUTS))
    target = seg.state_dict()
    missing, unexpected = sorted(set(target) - set(sd)), sorted(set(sd) - set(target))
    assert missing == [] and unexpected == [], (missing, unexpected)
    assert all(sd[k].shape == v.shape for k, v in target.items())


def test_other_backbones_are_refused_at_build():
    cfg = small_grass_cfg(backbone=dict(type='MobileNetV2', widen_factor=0.25))
    with DefaultScope.overwrite_default_scope('mmpretrain'), pytest.raises(TypeError, match='got MobileNetV2'):
        MODELS.build(cfg)
