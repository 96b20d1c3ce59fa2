"""IoUKappaMetric: Cohen's Kappa from IoUMetric's per-class areas equals a confusion-matrix Kappa."""

import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import grass_mm  # noqa: F401  (registers IoUKappaMetric)
from grass_mm.seg.iou_kappa_metric import IoUKappaMetric, cohen_kappa_from_areas

C, IGNORE = 5, 255


def _samples(preds, labels):
    out = []
    for p, lab in zip(preds, labels, strict=True):
        s = SegDataSample()
        s.pred_sem_seg = PixelData(data=p[None])
        s.gt_sem_seg = PixelData(data=lab[None])
        out.append(s.to_dict())
    return out


def _evaluate(preds, labels, **kwargs):
    metric = IoUKappaMetric(ignore_index=IGNORE, **kwargs)
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(C)])
    metric.process({}, _samples(preds, labels))
    return metric.evaluate(len(preds))


def _kappa_confusion(preds, labels):
    """Kappa in % the textbook way: confusion matrix over the labelled pixels of all images."""
    cm = np.zeros((C, C), dtype=np.int64)
    for p, lab in zip(preds, labels, strict=True):
        keep = lab != IGNORE
        np.add.at(cm, (lab[keep].numpy(), p[keep].numpy()), 1)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n**2
    return 100 * (po - pe) / (1 - pe), 100 * po


def _random_batch(seed, b=3, size=(40, 48)):
    g = torch.Generator().manual_seed(seed)
    labels = [torch.randint(0, C, size, generator=g) for _ in range(b)]
    preds = []
    for lab in labels:
        noisy = torch.randint(0, C, size, generator=g)
        keep = torch.rand(size, generator=g) < 0.6  # 60 % copied from the label: Kappa well above 0
        preds.append(torch.where(keep, lab, noisy))
        lab[torch.rand(size, generator=g) < 0.1] = IGNORE  # ignored pixels must not count
    return preds, labels


@pytest.mark.parametrize('seed', [0, 1])
def test_kappa_equals_confusion_matrix_kappa(seed):
    preds, labels = _random_batch(seed)
    res = _evaluate(preds, labels, iou_metrics=['mIoU'])
    kappa, oa = _kappa_confusion(preds, labels)
    assert 30 < kappa < 90
    assert res['Kappa'] == pytest.approx(kappa, abs=0.006)  # mmseg rounds to 2 decimals
    assert res['aAcc'] == pytest.approx(oa, abs=0.006)  # IoUMetric's own keys stay
    assert {'mIoU', 'mAcc', 'aAcc', 'Kappa'} <= set(res)


def test_perfect_and_constant_predictions():
    _, labels = _random_batch(2)
    perfect = [torch.where(lab == IGNORE, torch.zeros_like(lab), lab) for lab in labels]  # ignored pixels: any value
    assert _evaluate(perfect, labels)['Kappa'] == 100.0
    constant = [torch.full_like(lab, 3) for lab in labels]  # one class everywhere: no agreement beyond chance
    res = _evaluate(constant, labels)
    assert res['Kappa'] == 0.0 and res['aAcc'] > 0


def test_undefined_kappa_is_nan_or_nan_to_num():
    """Prediction and label both one identical class: pe = 1, Kappa = 0/0."""
    labels = [torch.full((8, 8), 2)]
    assert math.isnan(_evaluate(labels, labels)['Kappa'])
    assert _evaluate(labels, labels, nan_to_num=0)['Kappa'] == 0.0


def test_kappa_from_areas_is_symmetric_and_bounded():
    inter = torch.tensor([5.0, 0.0, 1.0])
    pred = torch.tensor([6.0, 3.0, 1.0])
    label = torch.tensor([7.0, 1.0, 2.0])
    k = cohen_kappa_from_areas(inter, pred, label)
    assert k.dtype == torch.float64 and -1 <= float(k) <= 1
    assert float(k) == pytest.approx(float(cohen_kappa_from_areas(inter, label, pred)))
