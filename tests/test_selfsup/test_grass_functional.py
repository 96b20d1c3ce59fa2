"""GraSS tensor math: LAM vs a full-backward reference, DAR vs scikit-image, crops vs interpolate."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.measure import label as sk_label

from grass_mm.selfsup.grass_functional import (connected_components, crop_and_resize,
                                               dar_boxes, loss_attention_map)
from _grass_helpers import random_views, small_grass


def _reference_lam(model, views, stage):
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
    cam = np.maximum(cam, 0)
    cam = cam / np.maximum(cam.reshape(len(cam), -1).max(1), 1e-12)[:, None, None]
    up = F.interpolate(torch.from_numpy(cam)[:, None].float(), size=views.shape[-2:],
                       mode='bilinear', align_corners=False)[:, 0]
    return up, store['A'].grad


@pytest.mark.parametrize('stage', [3, 2])
def test_lam_matches_full_backward_reference(stage):
    torch.manual_seed(0)
    model = small_grass(gs_stage=stage)
    model.train()
    views = model._interleave(random_views(n=3, size=64))
    # same BN statistics in both passes: batch statistics of the same views (train mode)
    crops, lam, boxes = model.guided_crops(views, return_maps=True)
    # the guidance pass leaves no parameter gradient behind
    assert all(p.grad is None for p in model.parameters())
    ref, _ = _reference_lam(model, views, stage)
    assert lam.shape == (6, 64, 64) and crops.shape == views.shape
    assert float(lam.max()) > 0
    torch.testing.assert_close(lam, ref, atol=1e-4, rtol=1e-3)
    # boxes are inside the views, and crops equal a per-sample interpolation of the box
    for i in range(6):
        x0, y0, x1, y1 = boxes[i].tolist()
        assert 0 <= x0 <= x1 < 64 and 0 <= y0 <= y1 < 64
        ref_crop = F.interpolate(views[i:i + 1, :, y0:y1 + 1, x0:x1 + 1], size=(64, 64),
                                 mode='nearest')
        torch.testing.assert_close(crops[i:i + 1], ref_crop)


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
        lam = F.interpolate(torch.randn(60, 1, low, low, generator=g), size=(size, size + 3),
                            mode='bilinear', align_corners=False)[:, 0]
        boxes = dar_boxes(lam, ta)
        for i in range(len(lam)):
            assert boxes[i].tolist() == _sk_box(lam[i].numpy(), ta), (size, low, ta, i)
            n_checked += 1
    assert n_checked == 300


def test_connected_components_partition_matches_skimage_on_noise():
    g = torch.Generator().manual_seed(2)
    masks = torch.rand(100, 23, 31, generator=g) > 0.45
    labels = connected_components(masks).numpy()
    for lab, m in zip(labels, masks.numpy()):
        ref = sk_label(m, connectivity=2)
        assert ((lab > 0) == m).all()
        pairs = set(zip(lab[m].tolist(), ref[m].tolist()))
        # a bijection between our labels and scikit-image's
        assert len(pairs) == len(np.unique(lab[m])) == len(np.unique(ref[m]))


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
    boxes = torch.tensor([[0, 0, 23, 19], [3, 2, 10, 15], [5, 5, 5, 5], [0, 10, 23, 11],
                          [20, 0, 23, 19]])
    out = crop_and_resize(imgs, boxes, (16, 30), mode)
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        kw = {} if mode == 'nearest' else dict(align_corners=False)
        ref = F.interpolate(imgs[i:i + 1, :, y0:y1 + 1, x0:x1 + 1], size=(16, 30), mode=mode, **kw)
        torch.testing.assert_close(out[i:i + 1], ref, atol=1e-5, rtol=1e-5)


def test_bad_threshold_and_norm():
    with pytest.raises(ValueError, match='threshold'):
        dar_boxes(torch.rand(1, 8, 8), 1.0)
    with pytest.raises(ValueError, match='norm'):
        loss_attention_map(torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 3), norm='max')
