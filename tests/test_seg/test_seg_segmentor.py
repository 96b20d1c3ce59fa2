"""ContrastEncoderDecoder: losses reach the backbone (also under autocast), test mode is the plain model."""

import copy

import pytest
import torch

import grass_mm  # noqa: F401

from _seg_tiny import build, tiny_model  # noqa: E402
from _seg_tiny import tiny_batch as _batch  # noqa: E402

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
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)
    assert t_out.shape[1] == 4


@pytest.mark.parametrize(
    'comp,kw,key',
    [
        ('patch', dict(in_index=[2, 4], in_channels=[64, 128]), 'patch_contrast_head.in_index'),
        ('anchor', dict(in_index=[7], in_channels=[64]), 'pixel_anchor_head.in_index'),
        ('patch', dict(channels=0), 'channels'),
        ('patch', dict(purity=0), 'purity'),
        ('anchor', dict(k_percent=150), 'k_percent'),
        ('anchor', dict(num_classes=3), 'pixel_anchor_head.num_classes=3'),
    ],
)
def test_bad_config_at_build_time(comp, kw, key):
    with pytest.raises(ValueError, match=key.replace('.', r'\.')):
        build(tiny_model('fcn', **{comp: kw}))


# ---------------------------------------------------------------- issue 12
def test_binary_sigmoid_head_fails_at_build_time():
    cfg = tiny_model('fcn', patch={}, num_classes=2)
    cfg['decode_head'].update(out_channels=1, loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    with pytest.raises(ValueError, match=r'decode_head\.out_channels=1') as err:
        build(cfg)
    assert '\n' not in str(err.value) and 'patch_contrast_head' in str(err.value)
    cfg = tiny_model('fcn', anchor={}, num_classes=2)
    cfg['decode_head'].update(out_channels=1, loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    with pytest.raises(ValueError, match=r'pixel_anchor_head needs .* decode_head\.out_channels=1'):
        build(cfg)


def test_components_follow_the_decode_head_ignore_index_and_norm():
    cfg = tiny_model('uper', patch={}, anchor={})
    cfg['decode_head'].update(ignore_index=2, norm_cfg=dict(type='GN', num_groups=4, requires_grad=True))
    model = build(cfg)
    assert model.patch_contrast_head.ignore_index == 2 == model.pixel_anchor_head.ignore_index
    norms = [m for m in model.pixel_anchor_head.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == len(model.pixel_anchor_head.embed)
    explicit = build(tiny_model('uper', anchor=dict(ignore_index=7, norm_cfg=dict(type='BN'))))
    assert explicit.pixel_anchor_head.ignore_index == 7
    assert isinstance(explicit.pixel_anchor_head.embed[0][2], torch.nn.BatchNorm2d)


def test_decode_head_ignore_index_drops_the_class_from_both_components():
    """A label equal to the decode head's in-range ignore_index contributes exactly like 255."""
    torch.manual_seed(0)
    cfg = tiny_model('uper', patch=dict(hard_negatives=True), anchor=dict(k_percent=100))
    ref_model = build(cfg)
    cfg['decode_head']['ignore_index'] = 2
    model = build(cfg)
    model.load_state_dict(ref_model.state_dict())
    x, samples = _batch()
    for s in samples:  # CrossEntropyLoss(ignore_index=2) cannot take label 255
        s.gt_sem_seg.data[s.gt_sem_seg.data == 255] = 0
    ref_samples = copy.deepcopy(samples)
    for s in ref_samples:
        d = s.gt_sem_seg.data
        s.gt_sem_seg.data = d.masked_fill(d == 2, 255)
    keys = ('patch_contrast.loss_patch_contrast', 'pixel_anchor.loss_pixel_anchor')
    torch.manual_seed(1)
    out = model.loss(x, samples)
    torch.manual_seed(1)
    ref = ref_model.loss(x, ref_samples)
    torch.manual_seed(1)
    as_class = ref_model.loss(x, samples)
    for k in keys:
        torch.testing.assert_close(out[k], ref[k])
        assert not torch.allclose(out[k], as_class[k]), k  # label 2 as a class changes it


def test_export_plain_checkpoint_loads_strictly_with_equal_logits(tmp_path):
    from mmengine.config import Config
    from test_runtime._tools import load_tool

    tool = load_tool('tools/model_converters/export_plain_seg.py')

    torch.manual_seed(0)
    cfg = tiny_model('uper', patch={}, anchor={})
    model = build(cfg)
    x, samples = _batch()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sum(v for k, v in model.loss(x, samples).items() if 'loss' in k).backward()  # non-trivial weights/BN stats
    opt.step()
    model.eval()
    ckpt = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=list('abcd')))), ckpt)
    cfg_path = tmp_path / 'train_cfg.py'
    Config(dict(model=cfg)).dump(str(cfg_path))
    tool.main([str(cfg_path), str(ckpt), str(tmp_path / 'plain.pth')])

    plain_cfg = Config.fromfile(str(tmp_path / 'plain.py'))
    assert plain_cfg.model.type == 'EncoderDecoder' and 'pixel_anchor_head' not in plain_cfg.model
    plain = build(plain_cfg.model).eval()
    exported = torch.load(tmp_path / 'plain.pth', weights_only=True)
    plain.load_state_dict(exported['state_dict'], strict=True)
    assert exported['meta']['dataset_meta']['classes'] == list('abcd')
    assert exported['meta']['dropped_keys'] == ['patch_contrast_head', 'pixel_anchor_head']
    with torch.no_grad():
        out = model.predict(x, copy.deepcopy(samples))
        ref = plain.predict(x, copy.deepcopy(samples))
    for a, b in zip(out, ref, strict=True):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data, rtol=0, atol=0)
    with pytest.raises(SystemExit):  # existing output is not overwritten
        tool.main([str(cfg_path), str(ckpt), str(tmp_path / 'plain.pth')])
