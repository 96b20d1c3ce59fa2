"""Pixel-anchor loss: anchors, contextual update, BANE, InfoNCE, degenerate batches, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt

from grass_mm.seg.pixel_anchor_functional import (
    bane_hard_negatives,
    class_anchors,
    contextual_anchors,
    pixel_anchor_infonce,
    sample_class_pixels,
)
from grass_mm.seg.pixel_anchor_head import PixelAnchorHead

C = 3
IGN = 255


def test_anchors_are_per_class_means():
    emb = torch.randn(2, 5, 6, 7)
    lab = torch.randint(0, C, (2, 6, 7))
    lab[0, :2] = IGN
    lab[lab == 2] = 0  # class 2 absent
    anchors, counts = class_anchors(emb, lab, C)
    for c in range(C):
        sel = [emb[b, :, i, j] for b in range(2) for i in range(6) for j in range(7) if lab[b, i, j] == c]
        assert counts[c] == len(sel)
        if sel:
            torch.testing.assert_close(anchors[c], torch.stack(sel).mean(0), rtol=1e-5, atol=1e-6)
        else:
            assert anchors[c].abs().sum() == 0


def test_contextual_update():
    a = [torch.randn(C, 4) for _ in range(3)]
    out = contextual_anchors(a, 0.3, 0.7)
    for i in range(3):
        torch.testing.assert_close(out[i], F.normalize(0.3 * a[i] + 0.7 * a[2], dim=-1))


def test_sampled_pixels_have_their_class():
    lab = torch.randint(0, C, (2, 8, 8))
    lab[lab == 1] = IGN
    idx, valid = sample_class_pixels(lab, C, 16)
    flat = lab.reshape(-1)
    for c in range(C):
        chosen = flat[idx[c][valid[c]]]
        assert (chosen == c).all()
        assert int(valid[c].sum()) == min(16, int((flat == c).sum()))
        assert len(set(idx[c][valid[c]].tolist())) == int(valid[c].sum())


def test_bane_picks_false_positives_nearest_the_boundary():
    g = torch.Generator().manual_seed(0)
    lab = torch.randint(0, C, (2, 12, 12), generator=g)
    lab[:, :, :3] = 0
    pred = lab.clone()
    pred[:, 2:10, 2:10] = 1  # a block wrongly predicted as 1 over other classes
    lab[0, 0, 5] = IGN
    k_percent = 30.0
    idx, valid, dist = bane_hard_negatives(pred, lab, C, k_percent, max_hard=1000)
    labn, predn = lab.numpy(), pred.numpy()
    for c in range(C):
        labelled = labn != IGN
        err = ((predn == c) != (labn == c)) & labelled
        fp = (predn == c) & (labn != c) & labelled
        ref_d = np.stack([distance_transform_edt(e) for e in err])  # independent scipy reference
        d_fp = ref_d[fp]
        n_take = int(np.ceil(len(d_fp) * k_percent / 100))
        got = idx[c][valid[c]].numpy()
        assert len(got) == n_take
        assert fp.reshape(-1)[got].all()
        if n_take:
            thr = np.sort(d_fp)[n_take - 1]
            assert (ref_d.reshape(-1)[got] <= thr + 1e-5).all()
            np.testing.assert_allclose(dist[c].numpy()[fp.reshape(-1)], ref_d[fp], atol=1e-5)


def test_infonce_matches_loop():
    s = F.normalize(torch.randn(C, 4, 6), dim=-1)
    sv = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    a = F.normalize(torch.randn(C, 6), dim=-1)
    present = torch.tensor([True, True, False])
    hard = F.normalize(torch.randn(C, 2, 6), dim=-1)
    hv = torch.tensor([[1, 0], [1, 1], [0, 0]], dtype=torch.bool)
    loss, ok = pixel_anchor_infonce(s, sv, a, present, hard, hv, temperature=0.1)
    assert ok.tolist() == [True, True, False]
    for n in range(2):
        vals = []
        for i in range(4):
            if not sv[n, i]:
                continue
            x = s[n, i]
            pos = torch.exp(x @ a[n] / 0.1)
            neg = sum(torch.exp(x @ a[m] / 0.1) for m in range(C) if m != n and present[m])
            neg = neg + sum(torch.exp(x @ hard[n, k] / 0.1) for k in range(2) if hv[n, k])
            vals.append(-torch.log(pos / (pos + neg)))
        torch.testing.assert_close(loss[n], torch.stack(vals).mean(), rtol=1e-4, atol=1e-5)


def _head(**kw):
    cfg = dict(in_channels=[8], in_index=[0], decoder_channels=6, num_classes=C, channels=4)
    cfg.update(kw)
    return PixelAnchorHead(**cfg)


def _inputs(b=2):
    feats = [torch.randn(b, 8, 8, 8, requires_grad=True)]
    dec = torch.randn(b, 6, 4, 4, requires_grad=True)
    return feats, dec


@pytest.mark.parametrize('use_bane', [True, False])
def test_loss_finite_with_grads(use_bane):
    head = _head(use_bane=use_bane, k_percent=50)
    feats, dec = _inputs()
    g = torch.randint(0, C, (2, 1, 16, 16))
    loss = head.loss(feats, torch.randn(2, C, 4, 4), g, dec)['loss_pixel_anchor']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert feats[0].grad.abs().sum() > 0 and dec.grad.abs().sum() > 0


@pytest.mark.parametrize('case', ['all_ignore', 'single_class', 'one_image', 'absent_class'])
def test_degenerate_batches(case):
    head = _head()
    b = 1 if case == 'one_image' else 2
    g = torch.randint(0, C, (b, 1, 16, 16))
    if case == 'all_ignore':
        g[:] = IGN
    elif case == 'single_class':
        g[:] = 2
    elif case == 'absent_class':
        g[g == 1] = 0
    feats, dec = _inputs(b)
    logits = torch.randn(b, C, 4, 4)
    if case == 'single_class':
        logits[:, 2] += 100  # perfect prediction: no hard negatives, no other anchor
    loss = head.loss(feats, logits, g, dec)['loss_pixel_anchor']
    assert torch.isfinite(loss)
    if case in ('all_ignore', 'single_class'):
        assert loss == 0
    loss.backward()
    assert feats[0].grad is not None and torch.isfinite(feats[0].grad).all()
    assert torch.isfinite(dec.grad).all()


@pytest.mark.parametrize(
    'kw,key',
    [
        (dict(k_percent=0), 'k_percent'),
        (dict(k_percent=100.5), 'k_percent'),
        (dict(channels=0), 'channels'),
        (dict(level_weights=[1.0]), 'level_weights'),
        (dict(in_index=[0, 1]), 'in_index'),
    ],
)
def test_bad_config(kw, key):
    with pytest.raises(ValueError, match=key):
        _head(**kw)


# ---------------------------------------------------------------- issue 12: BANE correctness
def _one_image_all_wrong(size=8):
    """Image 0 predicted right (classes 0/1 in halves); image 1 is all class 1, predicted all class 0."""
    lab = torch.zeros(2, size, size, dtype=torch.long)
    lab[0, :, size // 2 :] = 1
    lab[1] = 1
    pred = lab.clone()
    pred[1] = 0
    return pred, lab


def test_bane_never_returns_the_anchor_class_when_an_image_is_all_error():
    # class 0's error mask of image 1 has no non-error pixel: its EDT is inf everywhere
    pred, lab = _one_image_all_wrong()
    idx, valid, _ = bane_hard_negatives(pred, lab, 2, k_percent=100.0, max_hard=128)
    flat_lab, flat_pred = lab.reshape(-1), pred.reshape(-1)
    n_fp = int(((flat_pred == 0) & (flat_lab != 0)).sum())
    assert int(valid[0].sum()) == n_fp == 64
    chosen = idx[0][valid[0]]
    assert (flat_lab[chosen] != 0).all() and (flat_pred[chosen] == 0).all()
    assert len(set(chosen.tolist())) == n_fp
    # and with a partial share: still false positives only
    idx, valid, _ = bane_hard_negatives(pred, lab, 2, k_percent=10.0, max_hard=128)
    assert int(valid[0].sum()) == 7 and (flat_lab[idx[0][valid[0]]] == 1).all()
    assert not valid[1].any()  # class 1 has no false positive


def test_bane_ranks_boundaryless_images_after_finite_distances():
    pred, lab = _one_image_all_wrong()
    pred[0, 0, 0] = 0
    lab[0, 0, 0] = 1  # one false positive of class 0 in image 0, at distance 1 from its boundary
    idx, valid, dist = bane_hard_negatives(pred, lab, 2, k_percent=100.0, max_hard=128)
    assert int(idx[0, 0]) == 0 and dist[0, 0] == 1
    assert torch.isinf(dist[0, 64:]).all()  # image 1: no boundary


def test_bane_ties_are_spread_over_images_and_rows():
    # two identical images: every false positive has a twin at the same distance in the other image
    g = torch.Generator().manual_seed(0)
    lab = torch.randint(0, C, (1, 12, 12), generator=g).repeat(2, 1, 1)
    pred = lab.clone()
    pred[:, 3:9, 3:9] = 1
    share_img0, top_rows = [], []
    for seed in range(40):
        idx, valid, _ = bane_hard_negatives(
            pred, lab, C, k_percent=20.0, max_hard=128, generator=torch.Generator().manual_seed(seed)
        )
        chosen = idx[1][valid[1]]
        img = chosen // 144
        share_img0.append(float((img == 0).float().mean()))
        top_rows.append(float(((chosen % 144) // 12 < 6).float().mean()))
    assert 0.35 < np.mean(share_img0) < 0.65, np.mean(share_img0)
    assert min(share_img0) < 0.5 < max(share_img0)  # not always the same image
    assert np.std(top_rows) > 0  # row order varies with the tie-break


# ---------------------------------------------------------------- issue 12: ignore_index
def test_in_range_ignore_index_is_never_sampled_anchored_or_hard():
    g = torch.Generator().manual_seed(1)
    lab = torch.randint(0, C, (2, 10, 10), generator=g)
    lab[0, :2] = IGN
    pred = torch.randint(0, C, (2, 10, 10), generator=g)
    emb = torch.randn(2, 4, 10, 10)
    _, counts = class_anchors(emb, lab, C, ignore_index=1)
    assert counts[1] == 0 and counts.sum() == int(((lab != 1) & (lab != IGN)).sum())
    idx, valid = sample_class_pixels(lab, C, 500, ignore_index=1)
    assert not valid[1].any() and (lab.reshape(-1)[idx[valid]] != 1).all()
    h_idx, h_valid, _ = bane_hard_negatives(pred, lab, C, 100.0, 500, ignore_index=1)
    assert (lab.reshape(-1)[h_idx[h_valid]] != 1).all() and (lab.reshape(-1)[h_idx[h_valid]] != IGN).all()


@pytest.mark.parametrize('ignore', [1, IGN])
def test_head_ignore_index_equals_relabelling_to_255(ignore):
    head = _head(ignore_index=ignore, k_percent=30)
    feats, dec = _inputs()
    g = torch.randint(0, C, (2, 1, 16, 16), generator=torch.Generator().manual_seed(2))
    g[0, 0, :3] = IGN
    logits = torch.randn(2, C, 4, 4)
    torch.manual_seed(0)
    out = head.loss(feats, logits, g, dec)['loss_pixel_anchor']
    ref_head = _head(ignore_index=IGN, k_percent=30)
    ref_head.load_state_dict(head.state_dict())
    torch.manual_seed(0)  # same random draws: the sampling scores do not depend on the labels
    ref = ref_head.loss(feats, logits, g.masked_fill(g == ignore, IGN), dec)['loss_pixel_anchor']
    torch.testing.assert_close(out, ref)
    if ignore != IGN:  # and it differs from treating label 1 as a class
        torch.manual_seed(0)
        other = ref_head.loss(feats, logits, g, dec)['loss_pixel_anchor']
        assert not torch.allclose(out, other)


# ---------------------------------------------------------------- issue 12: whole loss vs a loop
def _loop_pixel_anchor_loss(head, inputs, dec, logits, gt, in_index, lam, t, w_low, w_high, weight):
    """Straightforward reference: every pixel sampled, every false positive a hard negative (K = 100%)."""
    feats = [inputs[i] for i in in_index] + [dec]
    embs = [F.normalize(head.embed[level](f), dim=1) for level, f in enumerate(feats)]
    labs, anchors = [], []
    for e in embs:
        s = gt.shape[-1] // e.shape[-1]
        lab = gt[:, 0, ::s, ::s]
        labs.append(lab)
        a = torch.zeros(C, e.shape[1])
        for n in range(C):
            vecs = [
                e[b, :, i, j]
                for b in range(lab.shape[0])
                for i in range(lab.shape[1])
                for j in range(lab.shape[2])
                if lab[b, i, j] == n
            ]
            if vecs:
                a[n] = torch.stack(vecs).mean(0)
        anchors.append(a)
    total = 0.0
    for level, (e, lab, a) in enumerate(zip(embs, labs, anchors, strict=True)):
        hat = F.normalize(w_low * a + w_high * anchors[-1], dim=-1)
        present = [n for n in range(C) if (lab == n).any()]
        pred = F.interpolate(logits, size=lab.shape[-2:], mode='bilinear', align_corners=False).argmax(1)
        x = e.permute(0, 2, 3, 1).reshape(-1, e.shape[1])
        fl, fp_pred = lab.reshape(-1), pred.reshape(-1)
        per_class = []
        for n in present:
            hard = x[(fp_pred == n) & (fl != n) & (fl != IGN)]
            vals = []
            for p in x[fl == n]:
                pos = torch.exp(p @ hat[n] / t)
                neg = sum(torch.exp(p @ hat[m] / t) for m in present if m != n) + torch.exp(hard @ p / t).sum()
                vals.append(-torch.log(pos / (pos + neg)))
            per_class.append(torch.stack(vals).mean())
        total = total + lam[level] * torch.stack(per_class).mean()
    return weight * total


def test_whole_loss_equals_a_loop_reference():
    torch.manual_seed(0)
    # in_index swapped against the feature order: stage 1 (6 ch, 4x4) is level 0, stage 0 (8 ch) level 1
    kw = dict(
        in_channels=[6, 8],
        in_index=[1, 0],
        decoder_channels=5,
        num_classes=C,
        channels=4,
        level_weights=[0.5, 2.0, 1.5],
        temperature=0.2,
        w_low=0.3,
        w_high=0.7,
        k_percent=100,
        max_samples=1000,
        max_hard=1000,
        loss_weight=0.3,
    )
    head = PixelAnchorHead(**kw)
    inputs = [torch.randn(2, 8, 8, 8), torch.randn(2, 6, 4, 4)]
    dec = torch.randn(2, 5, 8, 8)
    gt = torch.randint(0, C, (2, 1, 16, 16))
    gt[0, 0, :4, :4] = IGN
    logits = torch.randn(2, C, 8, 8)
    out = head.loss(inputs, logits, gt, dec)['loss_pixel_anchor']
    ref = _loop_pixel_anchor_loss(head, inputs, dec, logits, gt, [1, 0], [0.5, 2.0, 1.5], 0.2, 0.3, 0.7, 0.3)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
