"""ContrastEncoderDecoder: losses reach the backbone (also under autocast), test mode is the plain model."""
import copy

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import grass_mm  # noqa: F401
from _seg_tiny import build, tiny_model  # noqa: E402


def _batch(b=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 3, size, size, generator=g) * 255
    samples = []
    for i in range(b):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        gt[:, :, size // 2:] = 1
        gt[:, size // 2:, :] = 2 + i % 2
        gt[:, :4, :4] = 255
        d = SegDataSample()
        d.gt_sem_seg = PixelData(data=gt)
        d.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        samples.append(d)
    return x, samples


COMPONENTS = {'patch': dict(patch={}), 'anchor': dict(anchor={}), 'both': dict(patch={}, anchor={})}


@pytest.mark.parametrize('decode', ['fcn', 'uper'])
@pytest.mark.parametrize('comp', list(COMPONENTS))
def test_losses_reach_backbone(decode, comp):
    torch.manual_seed(0)
    model = build(tiny_model(decode, **COMPONENTS[comp]))
    x, samples = _batch()
    losses = model.loss(x, samples)
    keys = [k for k in losses if k.startswith(('patch_contrast.', 'pixel_anchor.'))]
    assert len(keys) == (2 if comp == 'both' else 1)
    for k in keys:
        assert torch.isfinite(losses[k]) and losses[k] > 0, k
        model.zero_grad()
        losses[k].backward(retain_graph=True)
        assert model.backbone.conv1.weight.grad.abs().sum() > 0, k


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('comp', ['patch', 'anchor'])
def test_autocast_cpu(comp, dtype):
    # CPU autocast runs convs and einsum in half precision like CUDA fp16 autocast does: the
    # losses' masked fills and similarity logits must not overflow (they run in float32) and
    # the gradient must reach the backbone, finite.
    torch.manual_seed(0)
    model = build(tiny_model('uper', **COMPONENTS[comp]))
    x, samples = _batch()
    with torch.autocast('cpu', dtype=dtype):
        feats = model.extract_feat(x)
        assert feats[-1].dtype == dtype  # autocast is really on
        losses = model.loss(x, samples)
    key = [k for k in losses if k.startswith(('patch_contrast.', 'pixel_anchor.'))][0]
    assert torch.isfinite(losses[key]) and losses[key] > 0
    losses[key].backward()
    grad = model.backbone.conv1.weight.grad
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason='fp16 autocast needs CUDA')
def test_autocast_fp16_cuda():
    model = build(tiny_model('uper', patch={}, anchor={})).cuda()
    x, samples = _batch()
    for s in samples:
        s.gt_sem_seg.data = s.gt_sem_seg.data.cuda()
    with torch.autocast('cuda', dtype=torch.float16):
        losses = model.loss(x.cuda(), samples)
    total = losses['patch_contrast.loss_patch_contrast'] + losses['pixel_anchor.loss_pixel_anchor']
    assert torch.isfinite(total)
    total.backward()
    assert torch.isfinite(model.backbone.conv1.weight.grad).all()


def test_test_mode_is_the_plain_model():
    torch.manual_seed(0)
    model = build(tiny_model('uper', patch={}, anchor={})).eval()
    plain_cfg = tiny_model('uper')
    plain_cfg['type'] = 'EncoderDecoder'
    plain = build(plain_cfg).eval()
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    assert not missing and all(k.startswith(('patch_contrast_head', 'pixel_anchor_head')) for k in unexpected)
    calls = []
    for name in ('patch_contrast_head', 'pixel_anchor_head'):
        for m in getattr(model, name).modules():
            m.register_forward_hook(lambda *a, n=name: calls.append(n))
    x, samples = _batch()
    with torch.no_grad():
        out = model.predict(x, copy.deepcopy(samples))
        ref = plain.predict(x, copy.deepcopy(samples))
        t_out = model._forward(x, samples)
    assert calls == []
    for a, b in zip(out, ref):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)
    assert t_out.shape[1] == 4


@pytest.mark.parametrize('comp,kw,key', [
    ('patch', dict(in_index=[2, 4], in_channels=[64, 128]), 'patch_contrast_head.in_index'),
    ('anchor', dict(in_index=[7], in_channels=[64]), 'pixel_anchor_head.in_index'),
    ('patch', dict(channels=0), 'channels'),
    ('patch', dict(purity=0), 'purity'),
    ('anchor', dict(k_percent=150), 'k_percent'),
])
def test_bad_config_at_build_time(comp, kw, key):
    with pytest.raises(ValueError, match=key.replace('.', r'\.')):
        build(tiny_model('fcn', **{comp: kw}))
