"""Pixel-anchor loss: anchors, contextual update, BANE, InfoNCE, degenerate batches, bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt

from grass_mm.seg.pixel_anchor_head import (PixelAnchorHead, bane_hard_negatives, class_anchors,
                                            contextual_anchors, pixel_anchor_infonce, sample_class_pixels)

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


@pytest.mark.parametrize('kw,key', [(dict(k_percent=0), 'k_percent'), (dict(k_percent=100.5), 'k_percent'),
                                    (dict(channels=0), 'channels'), (dict(level_weights=[1.0]), 'level_weights'),
                                    (dict(in_index=[0, 1]), 'in_index')])
def test_bad_config(kw, key):
    with pytest.raises(ValueError, match=key):
        _head(**kw)
