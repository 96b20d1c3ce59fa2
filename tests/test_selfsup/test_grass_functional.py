"""GraSS tensor math: LAM vs a full-backward reference, DAR vs scikit-image and vs the device
propagation, crops vs interpolate."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.measure import label as sk_label

import grass_mm.selfsup.grass_functional as gf
from grass_mm.selfsup.grass_functional import (
    connected_components,
    connected_components_host,
    crop_and_resize,
    dar_boxes,
    loss_attention_map,
)

from _grass_helpers import random_views, small_grass


def _reference_lam(model, views, stage, norm='relu'):
    """The original procedure: full forward, full backward, hook on the stage output."""
    store = {}

    def hook(module, inp, out):
        out.retain_grad()
        store['A'] = out

    layer = getattr(model.backbone, model.backbone.res_layers[stage])
    handle = layer.register_forward_hook(hook)
    loss = model.contrastive_loss(model.backbone(views))
    loss.backward()
    handle.remove()
    A, G = store['A'].detach().numpy(), store['A'].grad.numpy()
    w = G.mean(axis=(2, 3))  # (B, C)
    cam = np.einsum('bc,bchw->bhw', w, A) / A.shape[1]
    if norm == 'relu':
        cam = np.maximum(cam, 0)
        cam = cam / np.maximum(cam.reshape(len(cam), -1).max(1), 1e-12)[:, None, None]
    else:  # 'original': division by the per-sample maximum
        cam = cam / cam.reshape(len(cam), -1).max(1)[:, None, None]
    up = F.interpolate(
        torch.from_numpy(cam)[:, None].float(), size=views.shape[-2:], mode='bilinear', align_corners=False
    )[:, 0]
    return up, store['A'].grad


@pytest.mark.parametrize('stage,norm', [(3, 'relu'), (2, 'relu'), (3, 'original')])
def test_lam_matches_full_backward_reference(stage, norm):
    torch.manual_seed(0)
    model = small_grass(gs_stage=stage, lam_norm=norm)
    model.train()
    views = model._interleave(random_views(n=3, size=64))
    # same BN statistics in both passes: batch statistics of the same views (train mode)
    crops, lam, boxes = model.guided_crops(views, return_maps=True)
    # the guidance pass leaves no parameter gradient behind
    assert all(p.grad is None for p in model.parameters())
    ref, _ = _reference_lam(model, views, stage, norm)
    assert lam.shape == (6, 64, 64) and crops.shape == views.shape
    assert float(lam.max()) > 0
    torch.testing.assert_close(lam, ref, atol=1e-4, rtol=1e-3)
    # the CPU default (host labelling) gives the boxes of the device propagation
    assert torch.equal(boxes, dar_boxes(lam, model.threshold, backend='device'))
    # boxes are inside the views, and crops equal a per-sample interpolation of the box
    for i in range(6):
        x0, y0, x1, y1 = boxes[i].tolist()
        assert 0 <= x0 <= x1 < 64 and 0 <= y0 <= y1 < 64
        ref_crop = F.interpolate(views[i : i + 1, :, y0 : y1 + 1, x0 : x1 + 1], size=(64, 64), mode='nearest')
        torch.testing.assert_close(crops[i : i + 1], ref_crop)


def _sk_box(m, ta):
    mask = m > m.min() + ta * (m.max() - m.min())
    if not mask.any():
        return [0, 0, m.shape[1] - 1, m.shape[0] - 1]
    lab = sk_label(mask, connectivity=2)
    y, x = np.unravel_index(np.argmax(m), m.shape)
    ys, xs = np.where(lab == lab[y, x])
    return [xs.min(), ys.min(), xs.max(), ys.max()]


def test_dar_boxes_match_skimage_on_random_maps():
    g = torch.Generator().manual_seed(1)
    n_checked = 0
    for size, low, ta in [(56, 7, 0.5), (64, 4, 0.3), (48, 12, 0.7), (33, 5, 0.0), (40, 20, 0.5)]:
        lam = F.interpolate(
            torch.randn(60, 1, low, low, generator=g), size=(size, size + 3), mode='bilinear', align_corners=False
        )[:, 0]
        boxes = dar_boxes(lam, ta)
        for i in range(len(lam)):
            assert boxes[i].tolist() == _sk_box(lam[i].numpy(), ta), (size, low, ta, i)
            n_checked += 1
    assert n_checked == 300


@pytest.mark.parametrize('backend', ['device', 'host'])
def test_connected_components_partition_matches_skimage_on_noise(backend):
    g = torch.Generator().manual_seed(2)
    masks = torch.rand(100, 23, 31, generator=g) > 0.45
    labels = (connected_components(masks) if backend == 'device' else connected_components_host(masks)).numpy()
    all_labels = []
    for lab, m in zip(labels, masks.numpy(), strict=True):
        ref = sk_label(m, connectivity=2)
        assert ((lab > 0) == m).all()
        pairs = set(zip(lab[m].tolist(), ref[m].tolist(), strict=True))
        # a bijection between our labels and scikit-image's
        assert len(pairs) == len(np.unique(lab[m])) == len(np.unique(ref[m]))
        all_labels.append(np.unique(lab[m]))
    if backend == 'host':  # one scipy call: no label is shared by two images of the batch
        all_labels = np.concatenate(all_labels)
        assert len(all_labels) == len(np.unique(all_labels))


def _smooth_maps(g, n, low, size):
    return F.interpolate(torch.randn(n, 1, low, low + 1, generator=g), size=size, mode='bilinear', align_corners=False)[
        :, 0
    ]


def test_host_dar_boxes_equal_device_propagation():
    """The CPU fast path (scipy labelling) against the previous implementation (device
    propagation, unchanged): smooth LAM-like maps, plateaus tying the maximum, noise with
    many winding components, constant maps, all in mixed batches."""
    g = torch.Generator().manual_seed(4)
    n_boxes = n_ties = 0
    for _seed_round in range(3):
        for size, low, ta in [
            ((56, 59), 7, 0.5),
            ((64, 64), 4, 0.3),
            ((33, 40), 12, 0.7),
            ((48, 45), 5, 0.0),
            ((40, 40), 20, 0.9),
        ]:
            lam = _smooth_maps(g, 24, low, size)
            lam[3] = 0.25  # every value equal: empty mask
            lam[7] = 0.0
            # plateaus: the maximum is tied over many pixels, often in several components
            lam[12:20] = torch.round(lam[12:20] * 2) / 2
            for m in lam[12:20].numpy():  # count maps whose maximum lies in > 1 component
                lab = sk_label(m > m.min() + ta * (m.max() - m.min()), connectivity=2)
                n_ties += len(np.unique(lab[m == m.max()])) > 1
            host = dar_boxes(lam, ta, backend='host')
            assert torch.equal(host, dar_boxes(lam, ta, backend='device')), (size, low, ta)
            assert torch.equal(host, dar_boxes(lam, ta)), 'auto must be host on CPU'
            assert host[3].tolist() == host[7].tolist() == [0, 0, size[1] - 1, size[0] - 1]
            for i in (0, 12, 13):  # and the independent scikit-image reference
                assert host[i].tolist() == _sk_box(lam[i].numpy(), ta)
            n_boxes += len(lam)
    # noise: many small winding components; the device reference with H * W rounds is exact
    noise = torch.rand(40, 13, 17, generator=g)
    noise[5] = 1.0
    for ta in (0.3, 0.5, 0.8):
        host = dar_boxes(noise, ta, backend='host')
        assert torch.equal(host, dar_boxes(noise, ta, 13 * 17, backend='device'))
        for i in range(0, 40, 7):
            assert host[i].tolist() == _sk_box(noise[i].numpy(), ta)
    assert n_boxes == 360 and n_ties >= 20


def test_auto_backend_labels_cpu_tensors_on_the_host(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError('the device propagation ran on a CPU tensor')

    monkeypatch.setattr(gf, 'connected_components', fail)
    lam = _smooth_maps(torch.Generator().manual_seed(5), 4, 5, (32, 32))
    assert dar_boxes(lam, 0.5).shape == (4, 4)
    with pytest.raises(AssertionError, match='device propagation'):
        dar_boxes(lam, 0.5, backend='device')
    with pytest.raises(ValueError, match="backend='gpu'"):
        dar_boxes(lam, 0.5, backend='gpu')


def test_original_norm_divides_by_the_max_and_flips_nonpositive_maps():
    g = torch.Generator().manual_seed(6)
    feats = torch.rand(4, 6, 5, 7, generator=g)
    grads = torch.randn(4, 6, 5, 7, generator=g)
    grads[1] = -grads[1].abs() - 0.1  # every weight < 0, A >= 0: max < 0
    grads[2] = -1.0
    feats[2, :, 3, 4] = 0  # max exactly 0 (at (3, 4)), every other value < 0
    grads[3] = grads[3].abs() + 0.1  # max > 0
    raw = (grads.mean(dim=(2, 3), keepdim=True) * feats).mean(1).double().numpy()
    mx = raw.reshape(4, -1).max(1)
    assert mx[1] < 0 and mx[2] == 0 and mx[3] > 0
    lam = loss_attention_map(feats, grads, norm='original')
    assert torch.isfinite(lam).all()
    for i in (0, 1, 3):  # division by the per-sample maximum, sign flip included
        np.testing.assert_allclose(lam[i].numpy(), raw[i] / mx[i], rtol=1e-5, atol=1e-6)
    # max < 0: the signs flip, the most negative place becomes the maximum (the DAR seed)
    assert float(lam[1].min()) == pytest.approx(1.0) and float(lam[1].max()) > 1
    assert int(lam[1].argmax()) == int(raw[1].argmin())
    box = dar_boxes(lam[1:2], 0.5)[0].tolist()
    y, x = divmod(int(raw[1].argmin()), 7)
    assert box[0] <= x <= box[2] and box[1] <= y <= box[3]
    # max == 0: the original divides by zero (NaN / -inf, the whole view); here all zeros
    assert torch.equal(lam[2], torch.zeros(5, 7))
    assert dar_boxes(lam[2:3], 0.5).tolist() == [[0, 0, 6, 4]]
    # the whole original procedure (divide, upsample, threshold, label, box) gives our boxes,
    # for max == 0 too, where its NaN / -inf map has an empty mask, i.e. the whole view
    with np.errstate(divide='ignore', invalid='ignore'):
        orig = torch.from_numpy(raw / mx[:, None, None]).float()
    orig = F.interpolate(orig[:, None], size=(20, 28), mode='bilinear', align_corners=False)[:, 0]
    assert torch.isnan(orig[2]).any()
    ours = dar_boxes(loss_attention_map(feats, grads, size=(20, 28), norm='original'), 0.5)
    assert ours.tolist() == [_sk_box(m, 0.5) for m in orig.numpy()]
    assert ours[2].tolist() == [0, 0, 27, 19]
    # relu and original agree where the map is non-negative; upsampling follows the division
    up = loss_attention_map(feats, grads, size=(20, 28), norm='original')
    ref = F.interpolate(lam[:, None], size=(20, 28), mode='bilinear', align_corners=False)[:, 0]
    torch.testing.assert_close(up, ref)
    nonneg = loss_attention_map(feats[3:], grads[3:], norm='relu')
    assert float(raw[3].min()) >= 0
    torch.testing.assert_close(lam[3:], nonneg)


def test_constant_and_nonpositive_lam_give_full_box():
    feats = torch.rand(2, 4, 7, 7)
    grads = -torch.ones(2, 4, 7, 7)  # all weights < 0, A >= 0: LAM max <= 0
    lam = loss_attention_map(feats, grads, size=(28, 28), norm='relu')
    assert torch.all(lam == 0)
    boxes = dar_boxes(lam, 0.5)
    assert boxes.tolist() == [[0, 0, 27, 27]] * 2
    views = torch.randn(2, 3, 28, 28)
    torch.testing.assert_close(crop_and_resize(views, boxes), views)
    # min-max keeps the ordering of the raw map (its max is the least negative place)
    lam_mm = loss_attention_map(feats, grads, norm='minmax')
    raw = -(feats.mean(1))
    assert torch.equal(lam_mm.flatten(1).argmax(1), raw.flatten(1).argmax(1))
    assert float(lam_mm.max()) == pytest.approx(1.0)


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
def test_crop_and_resize_matches_interpolate(mode):
    g = torch.Generator().manual_seed(3)
    imgs = torch.randn(5, 2, 20, 24, generator=g)
    boxes = torch.tensor([[0, 0, 23, 19], [3, 2, 10, 15], [5, 5, 5, 5], [0, 10, 23, 11], [20, 0, 23, 19]])
    out = crop_and_resize(imgs, boxes, (16, 30), mode)
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        kw = {} if mode == 'nearest' else dict(align_corners=False)
        ref = F.interpolate(imgs[i : i + 1, :, y0 : y1 + 1, x0 : x1 + 1], size=(16, 30), mode=mode, **kw)
        torch.testing.assert_close(out[i : i + 1], ref, atol=1e-5, rtol=1e-5)


def test_bad_threshold_and_norm():
    with pytest.raises(ValueError, match='threshold'):
        dar_boxes(torch.rand(1, 8, 8), 1.0)
    with pytest.raises(ValueError, match="norm='max'"):
        loss_attention_map(torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 3), norm='max')
    with pytest.raises(ValueError, match='CPU tensors'):
        connected_components_host(torch.zeros(1, 4, 4, dtype=torch.bool, device='meta'))
