"""Patch-contrast head: exact patch selection on hand-built labels, losses, degenerate batches, bad input."""

import itertools

import numpy as np
import pytest
import torch

from grass_mm.seg.patch_contrast_functional import (
    patch_cl_loss,
    patch_class_fractions,
    patch_confidence,
    patch_infonce,
    select_patches,
)
from grass_mm.seg.patch_contrast_head import PatchContrastHead

C = 3
IGN = 255


def _hand_gt():
    """Two 8x8 label maps cut into a 4x4 grid of 2x2 patches, mixing pure, mixed and ignored patches."""
    g = np.zeros((2, 8, 8), np.int64)
    g[0, :4, :4] = 1
    g[0, 4:, 4:] = 2
    g[0, 3, 3] = 2  # patch (1,1) of image 0 becomes mixed 1/2
    g[0, 0:2, 6:8] = IGN  # patch (0,3) fully ignored
    g[1] = 2
    g[1, 0, 0] = IGN  # patch (0,0) of image 1: 3 x class 2 + 1 ignore -> not pure, not 2-free
    g[1, 6:8, 0:2] = 0
    return torch.from_numpy(g)


def _reference_sets(g, c, purity=1.0):
    """Independent loop: flattened (b, i, j) indices of pure-c and c-free patches (2x2 patches)."""
    pure, free = set(), set()
    b, h, w = g.shape
    for n, i, j in itertools.product(range(b), range(h // 2), range(w // 2)):
        p = g[n, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].numpy().ravel()
        flat = n * (h // 2) * (w // 2) + i * (w // 2) + j
        if (p == c).mean() >= purity:
            pure.add(flat)
        if (p == c).sum() == 0 and (p != IGN).any():
            free.add(flat)
    return pure, free


def _sets(sel, c):
    hard = set(sel['hard_idx'][c][sel['hard_valid'][c]].tolist())
    easy = set(sel['easy_idx'][c][sel['easy_valid'][c]].tolist())
    neg = set(sel['neg_idx'][c][sel['neg_valid'][c]].tolist())
    return hard, easy, neg


@pytest.mark.parametrize('purity', [1.0, 0.75, 0.5])
def test_selection_is_exactly_pure_and_class_free(purity):
    g = _hand_gt()
    frac, ign = patch_class_fractions(g, (4, 4), C, IGN)
    conf = torch.rand(2, C, 4, 4)
    sel = select_patches(frac, ign, conf, purity=purity, max_pos=64, max_neg=64)
    for c in range(C):
        pure, free = _reference_sets(g, c, purity)
        hard, easy, neg = _sets(sel, c)
        assert hard.isdisjoint(easy)
        assert hard | easy == pure, (c, purity)
        assert neg == free, c
        assert int(sel['num_pos'][c]) == len(pure)


def test_hard_positives_are_least_confident():
    g = _hand_gt()
    frac, ign = patch_class_fractions(g, (4, 4), C, IGN)
    conf = torch.rand(2, C, 4, 4)
    sel = select_patches(frac, ign, conf, hard_share=0.4, max_pos=64, max_neg=64)
    flat_conf = conf.permute(1, 0, 2, 3).reshape(C, -1)
    for c in range(C):
        pure = sorted(_reference_sets(g, c)[0], key=lambda k: float(flat_conf[c, k]))
        if len(pure) < 2:
            continue
        n_hard = max(1, int(np.floor(0.4 * len(pure))))
        hard, easy, _ = _sets(sel, c)
        assert hard == set(pure[:n_hard])
        assert easy == set(pure[n_hard:])


def test_caps_and_random_sampler():
    g = torch.zeros(1, 16, 16, dtype=torch.long)
    g[:, :, 8:] = 1
    frac, ign = patch_class_fractions(g, (8, 8), 2, IGN)
    sel = select_patches(frac, ign, None, max_pos=10, max_neg=5)
    hard, easy, neg = _sets(sel, 0)
    assert len(hard) + len(easy) == 10 and len(neg) == 5
    pure0, free0 = _reference_sets(g, 0)
    assert hard | easy <= pure0 and neg <= free0


def test_confidence_is_patch_mean_of_softmax():
    logits = torch.randn(2, C, 8, 8)
    conf = patch_confidence(logits, (4, 4))
    prob = logits.softmax(1)
    ref = prob.reshape(2, C, 4, 2, 4, 2).mean(dim=(3, 5))
    torch.testing.assert_close(conf, ref)


def _rand_unit(*shape):
    return torch.nn.functional.normalize(torch.randn(*shape), dim=-1)


def test_infonce_matches_loop():
    a, p, n = _rand_unit(2, 3, 8), _rand_unit(2, 4, 8), _rand_unit(2, 5, 8)
    av = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.bool)
    pv = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.bool)
    nv = torch.tensor([[1, 0, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)
    out = patch_infonce(a, p, n, av, pv, nv, temperature=0.1)
    for c in range(2):
        vals = []
        for i in range(3):
            for j in range(4):
                if not (av[c, i] and pv[c, j]):
                    continue
                pos = torch.exp(a[c, i] @ p[c, j] / 0.1)
                neg = sum((torch.exp(a[c, i] @ n[c, k] / 0.1) for k in range(5) if nv[c, k]), torch.tensor(0.0))
                vals.append(-torch.log(pos / (pos + neg)))
        torch.testing.assert_close(out[c], torch.stack(vals).mean(), rtol=1e-4, atol=1e-5)
    assert out[1] == 0  # no negatives: -log(1)


def test_cl_loss_has_a_real_negative_term():
    a = _rand_unit(1, 1, 8).repeat(1, 2, 1)
    p = a.clone()  # every positive pair has cos = 1 -> positive term ~ 0
    n = _rand_unit(1, 3, 8)
    v2, v3 = torch.ones(1, 2, dtype=torch.bool), torch.ones(1, 3, dtype=torch.bool)
    out = patch_cl_loss(a, p, n, v2, v2, v3)
    s_neg = (torch.einsum('ad,nd->an', a[0], n[0]) + 1) / 2
    ref = -torch.log(1 - s_neg).mean() + (-torch.log(torch.tensor(1 - 1e-6)))
    torch.testing.assert_close(out[0], ref, rtol=1e-4, atol=1e-5)
    assert out[0] > 0.1  # the original code's ignore index would give ~0 here


def _head(**kw):
    cfg = dict(in_channels=[8, 16], in_index=[0, 1], num_classes=C, channels=4)
    cfg.update(kw)
    return PatchContrastHead(**cfg)


def _feats(b=2):
    return [torch.randn(b, 8, 4, 4, requires_grad=True), torch.randn(b, 16, 2, 2, requires_grad=True)]


@pytest.mark.parametrize('loss_type', ['infonce', 'cl'])
@pytest.mark.parametrize('sampler', ['hard', 'random'])
def test_loss_finite_with_grads(loss_type, sampler):
    head = _head(loss_type=loss_type, sampler=sampler, hard_negatives=True)
    feats = _feats()
    g = _hand_gt()
    loss = head.loss(feats, torch.randn(2, C, 8, 8), g[:, None])['loss_patch_contrast']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert feats[0].grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)


@pytest.mark.parametrize('case', ['all_ignore', 'single_class', 'one_image', 'absent_class'])
def test_degenerate_batches(case):
    head = _head()
    g = _hand_gt()
    b = 2
    if case == 'all_ignore':
        g[:] = IGN
    elif case == 'single_class':
        g[:] = 1
    elif case == 'one_image':
        g, b = g[:1], 1
    elif case == 'absent_class':
        g[g == 0] = 1  # class 0 absent from the batch
    feats = _feats(b)
    loss = head.loss(feats, torch.randn(b, C, 8, 8), g[:, None])['loss_patch_contrast']
    assert torch.isfinite(loss)
    if case in ('all_ignore', 'single_class'):
        assert loss == 0
    loss.backward()  # graph intact
    assert feats[0].grad is not None and torch.isfinite(feats[0].grad).all()
    assert torch.isfinite(feats[1].grad).all()


def test_absent_class_does_not_change_the_loss():
    """A class that never occurs (extra logit at -1e4) is skipped: same loss as without it."""
    g = _hand_gt()
    head3 = _head(hard_negatives=True)
    head4 = _head(num_classes=C + 1, hard_negatives=True)
    head4.load_state_dict(head3.state_dict())
    feats = _feats()
    logits = torch.randn(2, C, 8, 8)
    l3 = head3.loss(feats, logits, g[:, None])['loss_patch_contrast']
    extra = torch.full((2, 1, 8, 8), -1e4)
    l4 = head4.loss(feats, torch.cat([logits, extra], 1), g[:, None])['loss_patch_contrast']
    assert l3 > 0
    torch.testing.assert_close(l3, l4)


@pytest.mark.parametrize(
    'kw,key',
    [
        (dict(channels=0), 'channels'),
        (dict(purity=0.0), 'purity'),
        (dict(purity=1.5), 'purity'),
        (dict(in_index=[0]), 'in_index'),
        (dict(loss_type='ce'), 'loss_type'),
        (dict(hidden_channels=0), 'hidden_channels'),
    ],
)
def test_bad_config(kw, key):
    with pytest.raises(ValueError, match=key):
        _head(**kw)


def test_projection_widths():
    """Linear(C_in, min(C_in, 512)) -> GELU -> Linear(hidden, channels) per stage, or the given hidden width."""
    from grass_mm.seg import PatchContrastHead

    head = PatchContrastHead(in_channels=[256, 2048], in_index=[0, 1], num_classes=3, channels=64)
    shapes = [(p[0].in_features, p[0].out_features, p[2].out_features) for p in head.projections]
    assert shapes == [(256, 256, 64), (2048, 512, 64)]
    head = PatchContrastHead(in_channels=[2048], in_index=[0], num_classes=3, hidden_channels=1024)
    assert head.projections[0][0].out_features == 1024 and head.projections[0][2].out_features == 128


# ---------------------------------------------------------------- issue 12: ignore_index
def test_in_range_ignore_index_selects_like_255():
    g = _hand_gt()
    conf = torch.rand(2, C, 4, 4)
    frac, ign = patch_class_fractions(g, (4, 4), C, ignore_index=2)
    sel = select_patches(frac, ign, conf, max_pos=64, max_neg=64)
    frac_r, ign_r = patch_class_fractions(g.masked_fill(g == 2, IGN), (4, 4), C, IGN)
    ref = select_patches(frac_r, ign_r, conf, max_pos=64, max_neg=64)
    for k in ('hard_valid', 'easy_valid', 'neg_valid', 'num_pos', 'num_neg'):
        assert torch.equal(sel[k], ref[k]), k
    for c in range(C):
        assert _sets(sel, c) == _sets(ref, c)
    assert int(sel['num_pos'][2]) == 0  # the ignored class has no positive (so no anchor)
    flat_ign = ign.reshape(-1)
    for c in range(C):  # no negative made only of ignored pixels, no positive holding one
        hard, easy, neg = _sets(sel, c)
        assert all(flat_ign[i] < 1 for i in neg) and all(flat_ign[i] == 0 for i in hard | easy)


# ---------------------------------------------------------------- issue 12: whole loss vs a loop
def _blocky_gt(seed=0):
    g = torch.Generator().manual_seed(seed)
    cells = torch.randint(0, C, (2, 1, 4, 4), generator=g).float()
    gt = torch.nn.functional.interpolate(cells, size=(16, 16), mode='nearest').long()[:, 0]
    gt[0, 5, 5] = (gt[0, 5, 5] + 1) % C  # mixed patches
    gt[1, 8:12, 12:16] = IGN  # a fully ignored 4x4 patch
    gt[1, 0, 0] = IGN
    return gt


def _loop_patch_loss(head, inputs, logits, gt, in_index, t, weight, loss_type, paired, hard_share=0.4):
    total = []
    for stage, i in enumerate(in_index):
        f = inputs[i]
        b, _, h, w = f.shape
        s = gt.shape[-1] // h
        prob = logits.softmax(1)
        ps = logits.shape[-1] // h
        pure, free, conf, vec = {}, {}, {}, {}
        for n, y, x in itertools.product(range(b), range(h), range(w)):
            k = (n, y, x)
            patch = gt[n, y * s : (y + 1) * s, x * s : (x + 1) * s]
            vec[k] = head.projections[stage](f[n, :, y, x])
            vec[k] = vec[k] / vec[k].norm()
            conf[k] = prob[n, :, y * ps : (y + 1) * ps, x * ps : (x + 1) * ps].mean(dim=(1, 2))
            for c in range(C):
                pure.setdefault(c, [])
                free.setdefault(c, [])
                if (patch == c).all():
                    pure[c].append(k)
                if not (patch == c).any() and (patch != IGN).any():
                    free[c].append(k)
        per_class = []
        for c in range(C):
            if len(pure[c]) < 2 or not free[c]:
                continue
            ranked = sorted(pure[c], key=lambda k: float(conf[k][c]))
            n_hard = max(1, int(np.floor(hard_share * len(ranked))))
            hard, easy = ranked[:n_hard], ranked[n_hard:][::-1]  # easy: most confident first
            pairs = [(a, p) for ia, a in enumerate(hard) for ip, p in enumerate(easy) if not paired or ia == ip]
            if loss_type == 'infonce':
                vals = []
                for a, p in pairs:
                    pos = torch.exp(vec[a] @ vec[p] / t)
                    neg = sum(torch.exp(vec[a] @ vec[q] / t) for q in free[c])
                    vals.append(-torch.log(pos / (pos + neg)))
                per_class.append(torch.stack(vals).mean())
            else:
                sim = lambda u, v: ((u @ v + 1) / 2).clamp(1e-6, 1 - 1e-6)  # noqa: E731
                lp = torch.stack([-torch.log(sim(vec[a], vec[p])) for a, p in pairs]).mean()
                ln = torch.stack([-torch.log(1 - sim(vec[a], vec[q])) for a in hard for q in free[c]]).mean()
                per_class.append(lp + ln)
        total.append(torch.stack(per_class).mean())
    return weight * torch.stack(total).mean()


@pytest.mark.parametrize('loss_type,pairing', [('infonce', 'all'), ('infonce', 'paired'), ('cl', 'paired')])
def test_whole_loss_equals_a_loop_reference(loss_type, pairing):
    torch.manual_seed(0)
    # in_index swapped against the feature order: projection 0 must see stage 1 (16 ch, 4x4 patches)
    head = PatchContrastHead(
        in_channels=[16, 8],
        in_index=[1, 0],
        num_classes=C,
        channels=6,
        hidden_channels=5,
        loss_type=loss_type,
        pairing=pairing,
        temperature=0.3,
        loss_weight=0.7,
        max_pos=500,
        max_neg=500,
    )
    inputs = [torch.randn(2, 8, 8, 8), torch.randn(2, 16, 4, 4)]
    gt = _blocky_gt()
    logits = torch.randn(2, C, 16, 16)
    out = head.loss(inputs, logits, gt[:, None])['loss_patch_contrast']
    ref = _loop_patch_loss(head, inputs, logits, gt, [1, 0], 0.3, 0.7, loss_type, pairing == 'paired')
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    head.clip = float(out.detach() / 0.7) / 2  # the clamp acts on the unweighted total
    torch.testing.assert_close(head.loss(inputs, logits, gt[:, None])['loss_patch_contrast'], out / 2)
