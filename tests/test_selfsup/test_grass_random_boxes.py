"""The random-box control (box_mode='random') and the official LAM normalisation as the default."""

import numpy as np
import pytest
import torch
from scipy import stats

from grass_mm.selfsup.grass_functional import dar_boxes, loss_attention_map, random_box_positions

from _grass_helpers import random_views, small_grass


def test_random_positions_keep_every_size_and_stay_inside():
    g = torch.Generator().manual_seed(0)
    H, W = 40, 64
    x0 = torch.randint(0, W, (500,), generator=g)
    y0 = torch.randint(0, H, (500,), generator=g)
    x1 = x0 + torch.randint(0, W, (500,), generator=g) % (W - x0)
    y1 = y0 + torch.randint(0, H, (500,), generator=g) % (H - y0)
    boxes = torch.stack([x0, y0, x1, y1], 1)
    moved = random_box_positions(boxes, (H, W), generator=g)
    assert torch.equal(moved[:, 2] - moved[:, 0], boxes[:, 2] - boxes[:, 0])
    assert torch.equal(moved[:, 3] - moved[:, 1], boxes[:, 3] - boxes[:, 1])
    assert moved[:, :2].min() >= 0 and (moved[:, 2] <= W - 1).all() and (moved[:, 3] <= H - 1).all()
    assert (moved != boxes).any()


def test_random_positions_are_uniform_over_the_valid_corners():
    """Chi-square test: a 20x12 box in a 64x40 view has 45 x 29 valid corners, each equally likely."""
    H, W, h, w, n = 40, 64, 12, 20, 60000
    boxes = torch.tensor([[0, 0, w - 1, h - 1]]).expand(n, 4)
    moved = random_box_positions(boxes, (H, W), generator=torch.Generator().manual_seed(1))
    xs = np.bincount(moved[:, 0].numpy(), minlength=W - w + 1)
    ys = np.bincount(moved[:, 1].numpy(), minlength=H - h + 1)
    assert len(xs) == W - w + 1 and len(ys) == H - h + 1  # nothing beyond the last valid corner
    assert stats.chisquare(xs).pvalue > 1e-3
    assert stats.chisquare(ys).pvalue > 1e-3
    # x and y independent
    table = np.histogram2d(moved[:, 0].numpy(), moved[:, 1].numpy(), bins=(5, 4))[0]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_full_view_box_cannot_move():
    boxes = torch.tensor([[0, 0, 31, 15]])
    assert torch.equal(random_box_positions(boxes, (16, 32)), boxes)


def test_random_box_grass_crops_the_dar_sizes_of_the_same_weights():
    """Same weights (one checkpoint), same views: the control's boxes have exactly the DAR boxes' sizes, and their
    positions follow the uniform law, not the gradient."""
    torch.manual_seed(0)
    dar = small_grass(gs_stage=-2)
    rnd = small_grass(gs_stage=-2, box_mode='random')
    rnd.load_state_dict(dar.state_dict())
    dar.eval(), rnd.eval()  # BN statistics fixed: both guidance passes see the same network
    views = dar._interleave(random_views(n=8, size=64))
    _, lam_d, boxes_d = dar.guided_crops(views, return_maps=True)
    torch.manual_seed(5)
    _, lam_r, boxes_r = rnd.guided_crops(views, return_maps=True)
    assert torch.allclose(lam_d, lam_r)
    assert torch.equal(boxes_r[:, 2:] - boxes_r[:, :2], boxes_d[:, 2:] - boxes_d[:, :2])
    torch.manual_seed(5)
    assert torch.equal(boxes_r, random_box_positions(boxes_d, (64, 64)))


def test_box_mode_is_checked():
    with pytest.raises(ValueError, match="box_mode must be one of \\('dar', 'random'\\), got box_mode='rand'"):
        small_grass(box_mode='rand')


def test_default_lam_norm_is_the_official_division_by_the_maximum():
    g = torch.Generator().manual_seed(3)
    feats = torch.randn(6, 8, 5, 5, generator=g)
    grads = torch.randn(6, 8, 5, 5, generator=g)
    # reference: Grad-CAM map without ReLU, divided by its per-sample maximum (the official code)
    raw = (grads.mean(dim=(2, 3), keepdim=True) * feats).mean(1)
    assert (raw < 0).any(dim=(1, 2)).all()  # negative values in every map: where relu and official differ
    ref = raw / raw.amax(dim=(1, 2), keepdim=True)
    assert torch.allclose(loss_attention_map(feats, grads), ref, atol=1e-6)
    assert small_grass().lam_norm == 'original'
    relu = loss_attention_map(feats, grads, norm='relu')
    assert not torch.allclose(relu, ref)
    # the ReLU raises the effective threshold: its DARs are never larger
    area = lambda b: ((b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)).float()  # noqa: E731
    assert (area(dar_boxes(loss_attention_map(feats, grads))) >= area(dar_boxes(relu))).all()
