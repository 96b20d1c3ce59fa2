"""GraSS options of the GS step: lam_norm, DAR labelling backend, channels-last guidance pass."""

import copy

import pytest
import torch

from grass_mm.selfsup.grass_functional import dar_boxes, loss_attention_map

from _grass_helpers import random_views, small_grass


@pytest.mark.parametrize('key,value', [('lam_norm', 'max'), ('cc_backend', 'gpu'), ('guide_channels_last', 'yes')])
def test_bad_gs_option_fails_at_build_naming_the_value(key, value):
    with pytest.raises(ValueError, match=f'{key}={value!r}'):
        small_grass(**{key: value})


@pytest.mark.parametrize('stage,norm', [(2, 'original'), (3, 'relu')])
def test_channels_last_guidance_is_as_accurate_as_nchw(stage, norm):
    """The CPU default (channels-last guidance pass, host labelling) against the previous path
    (NCHW, device propagation), both measured against a float64 run of the same model."""
    torch.manual_seed(0)
    model = small_grass(gs_stage=stage, lam_norm=norm)
    model.train()  # batch statistics: every pass normalises alike
    views = model._interleave(random_views(n=4, size=64, seed=3))
    ref = copy.deepcopy(model).double()
    ref.guide_channels_last = False
    _, lam64, boxes64 = ref.guided_crops(views.double(), return_maps=True)
    assert model.guide_channels_last is None and model.cc_backend == 'auto'
    seen, no_grad_to = [], model._no_grad_to
    model._no_grad_to = lambda x: seen.append(x.is_contiguous(memory_format=torch.channels_last)) or no_grad_to(x)
    crops, lam, boxes = model.guided_crops(views, return_maps=True)  # CPU: channels-last, host
    model.guide_channels_last, model.cc_backend = False, 'device'  # the previous path
    crops_prev, lam_prev, boxes_prev = model.guided_crops(views, return_maps=True)
    assert seen == [True, False]
    err = (lam.double() - lam64).abs().max()
    err_prev = (lam_prev.double() - lam64).abs().max()
    # both are float32 rounding of a map normalised to max 1 (oneDNN's channels-last kernels round differently
    # on different CPUs: 1.8e-3 against 3.6e-4 NCHW on one machine), and both give the float64 boxes
    assert err_prev < 5e-3 and err < 5e-3, (float(err), float(err_prev))
    assert torch.equal(boxes, boxes64) and torch.equal(boxes_prev, boxes64)
    torch.testing.assert_close(crops, crops_prev)
    # some view is really cropped, else the box comparison says little
    assert (boxes != torch.tensor([0, 0, 63, 63])).any(dim=1).any()


def test_original_norm_gs_step_uses_the_flipped_map():
    """A view whose LAM max is < 0 is cropped around its most negative place."""
    feats = torch.rand(2, 8, 8, 8)
    grads = -torch.rand(2, 8, 8, 8) - 0.1  # weights < 0, A >= 0: every value < 0
    feats[:, :, 5, 6] = 3.0  # the most negative place
    raw = (grads.mean(dim=(2, 3), keepdim=True) * feats).mean(1)
    assert float(raw.max()) < 0
    for norm, inside in (('original', True), ('relu', False)):
        lam = loss_attention_map(feats, grads, size=(64, 64), norm=norm)
        x0, y0, x1, y1 = dar_boxes(lam, 0.5)[0].tolist()
        # (5, 6) at stride 8 covers pixels y 40..47, x 48..55
        if inside:
            assert x0 <= 51 <= x1 and y0 <= 43 <= y1 and (x1 - x0) < 32
        else:  # relu zeroes the whole map: the view is left uncropped
            assert [x0, y0, x1, y1] == [0, 0, 63, 63]
