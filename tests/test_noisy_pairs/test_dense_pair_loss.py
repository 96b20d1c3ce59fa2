"""dense_pair_info_nce against a per-pixel loop reference; PixelPairContrast guards."""

import math

import pytest
import torch

from grass_mm.selfsup.dense_pair_functional import dense_pair_info_nce, sample_positions


def _reference(z1, z2, t):
    """Per-query loop: query (n, l) of one view against every (m, k) of the other view."""
    n, c = z1.shape[:2]
    a = [z1[i, :, j] / z1[i, :, j].norm() for i in range(n) for j in range(z1.shape[2])]
    b = [z2[i, :, j] / z2[i, :, j].norm() for i in range(n) for j in range(z2.shape[2])]
    total = 0.0
    for q_list, k_list in ((a, b), (b, a)):
        for qi, q in enumerate(q_list):
            logits = [float(q @ k) / t for k in k_list]
            total += -(logits[qi] - math.log(sum(math.exp(v) for v in logits)))
    return total / (2 * len(a))


def test_matches_loop_reference():
    torch.manual_seed(0)
    z1, z2 = torch.randn(3, 8, 2, 3), torch.randn(3, 8, 2, 3)
    got = float(dense_pair_info_nce(z1, z2, 0.3))
    assert got == pytest.approx(_reference(z1.flatten(2), z2.flatten(2), 0.3), rel=1e-5)
    idx = torch.tensor([4, 1])
    got = float(dense_pair_info_nce(z1, z2, 0.3, idx))
    assert got == pytest.approx(_reference(z1.flatten(2)[:, :, idx], z2.flatten(2)[:, :, idx], 0.3), rel=1e-5)


def test_identity_correspondence_is_what_is_rewarded():
    torch.manual_seed(1)
    z = torch.randn(2, 16, 4, 4)
    aligned = dense_pair_info_nce(z, z + 0.01 * torch.randn_like(z), 0.1)
    shifted = dense_pair_info_nce(z, torch.roll(z, 1, dims=3), 0.1)  # correspondence broken
    assert aligned < 0.05 < shifted
    with pytest.raises(ValueError, match='shape'):
        dense_pair_info_nce(z, z[:, :, :3], 0.1)


def test_sample_positions():
    assert sample_positions(10, None, 'cpu') is None and sample_positions(10, 20, 'cpu') is None
    idx = sample_positions(10, 4, 'cpu')
    assert idx.shape == (4,) and len(set(idx.tolist())) == 4 and int(idx.max()) < 10


@pytest.mark.parametrize(
    'kw,key',
    [
        (dict(global_weight=1.5), 'global_weight'),
        (dict(temperature=0.0), 'temperature'),
        (dict(num_samples=0), 'num_samples'),
    ],
)
def test_pixel_pair_bad_args(kw, key, init_pretrain_scope):
    from mmpretrain.registry import MODELS

    cfg = dict(
        type='PixelPairContrast',
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, out_indices=(3,)),
        neck=dict(type='DenseCLNeck', in_channels=64, hid_channels=16, out_channels=8),
        **kw,
    )
    with pytest.raises(ValueError, match=key):
        MODELS.build(cfg)
