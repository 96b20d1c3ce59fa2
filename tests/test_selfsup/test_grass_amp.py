"""GraSS under mixed precision: the guidance pass gives the fp32 DAR boxes (CPU autocast emulates AMP).

Before the fp32 guidance pass (measured on this code's predecessor, CPU autocast): a real ResNet-18 GraSS, 64
Dubai views of 128 px, LAM from the last stage, kept 57.8% (random init) / 96.9% (GraSS-trained) of the fp32
boxes under fp16 and 28.1% / 68.8% under bf16; synthetic 2048x7x7 features of 512 views through the real neck and
loss kept 75.0% (fp16) and 38.3% (bf16).
"""

import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from PIL import Image

import grass_mm

from _grass_helpers import random_views, small_grass, small_grass_cfg

DUBAI = osp.join(osp.dirname(grass_mm.__file__), 'demo', 'dubai_aerial')
LOW = [torch.float16, torch.bfloat16]


def dubai_views(n, size, seed=0):
    """``n`` normalised crops of ``size`` px of the shipped Dubai tiles (real imagery), (n, 3, size, size)."""
    files = sorted(glob.glob(osp.join(DUBAI, 'tile_[1-5]', 'images', '*.jpg')))
    assert files, DUBAI
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(n):
        img = np.asarray(Image.open(files[rng.integers(len(files))]).convert('RGB'), dtype=np.float32)
        y, x = rng.integers(img.shape[0] - size), rng.integers(img.shape[1] - size)
        crops.append(img[y : y + size, x : x + size])
    views = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)
    mean = torch.tensor([123.675, 116.28, 103.53])[:, None, None]
    std = torch.tensor([58.395, 57.12, 57.375])[:, None, None]
    return ((views - mean) / std).contiguous()


def guided_boxes(model, views, dtype=None):
    """DAR boxes of one guidance pass, in fp32 or under CPU autocast to ``dtype``."""
    with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        _, lam, boxes = model.guided_crops(views, return_maps=True)
    assert lam.dtype == torch.float32
    return boxes


def identical(boxes, ref):
    return float((boxes == ref).all(dim=1).float().mean())


def test_amp_guidance_gives_the_fp32_boxes_on_resnet18():
    """ResNet-18 (full width, random init), 64 real views of 128 px: fp16 and bf16 autocast crop the fp32 boxes."""
    torch.manual_seed(0)
    cfg = small_grass_cfg()
    cfg['backbone'] = dict(type='ResNet', depth=18, out_indices=(3,))
    cfg['neck'].update(in_channels=512, hid_channels=512, out_channels=128)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg).train()
    views = dubai_views(64, 128)
    ref = guided_boxes(model, views)
    assert (ref != torch.tensor([0, 0, 127, 127])).any(dim=1).float().mean() > 0.5  # real crops
    for dtype in LOW:
        assert identical(guided_boxes(model, views, dtype), ref) >= 0.99, dtype


def synthetic_grass(n_views, scale=1.0, guide_autocast=False):
    """GraSS whose guidance pass sees fixed post-ReLU features A (n_views, 2048, 7, 7), the paper's R50 size, and
    the real SimCLR neck (2048-2048-128, BN1d) and loss."""
    torch.manual_seed(0)
    neck = dict(type='NonLinearNeck', in_channels=2048, hid_channels=2048, out_channels=128, num_layers=2)
    model = small_grass(neck=dict(neck, with_avg_pool=True, norm_cfg=dict(type='BN1d')), guide_autocast=guide_autocast)
    g = torch.Generator().manual_seed(0)
    shared = torch.randn(n_views // 2, 2048, 7, 7, generator=g).repeat_interleave(2, 0)  # two views, one image
    feat = torch.relu(shared + 0.5 * torch.randn(n_views, 2048, 7, 7, generator=g)) * scale
    model._no_grad_to = lambda views: ([], feat.clone())
    return model.train(), torch.zeros(n_views, 3, 224, 224)


@pytest.mark.parametrize('scale', [1.0, 0.1])
def test_amp_guidance_gives_the_fp32_boxes_at_the_papers_sizes(scale):
    """512 views (8 GPUs x 32 images x 2) of 2048x7x7 through the neck and loss; scale 0.1 = 10x smaller gradients.

    The guidance pass's own low-precision backbone forward is allowed here (``guide_autocast=True``): A is fixed,
    so this checks that the tail, neck, loss and dL/dA run in fp32 whatever the autocast state.
    """
    model, views = synthetic_grass(512, scale, guide_autocast=True)
    ref = guided_boxes(model, views)
    assert (ref != torch.tensor([0, 0, 223, 223])).any(dim=1).float().mean() > 0.5  # real crops
    for dtype in LOW:
        assert identical(guided_boxes(model, views, dtype), ref) >= 0.99, dtype


def test_guide_autocast_option():
    with pytest.raises(ValueError, match="guide_autocast='yes'"):
        small_grass(guide_autocast='yes')
    model = small_grass(gs_enabled=True)
    seen = []
    no_grad_to = model._no_grad_to
    model._no_grad_to = lambda x: seen.append(torch.is_autocast_enabled('cpu')) or no_grad_to(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model.guided_crops(model._interleave(random_views(n=2, size=32)))
        model.guide_autocast = True
        model.guided_crops(model._interleave(random_views(n=2, size=32)))
    assert seen == [False, True]


def test_amp_gs_step_trains_on_the_crops_in_low_precision():
    """A whole GS step under bf16 autocast: finite loss, gradients reach the backbone."""
    model = small_grass(gs_enabled=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model.loss(random_views(n=4, size=64), None)['loss']
    assert torch.isfinite(loss)
    loss.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
