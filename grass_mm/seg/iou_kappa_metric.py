"""mmseg's :class:`IoUMetric` plus Cohen's Kappa, the agreement figure remote-sensing papers report.

Kappa needs no confusion matrix: it follows from the per-class areas ``IoUMetric`` already accumulates.
With ``N`` labelled (not ignored) pixels, ``I_c`` correctly predicted pixels of class ``c``, ``P_c``
pixels predicted as ``c`` and ``L_c`` pixels labelled ``c``::

    po = sum_c I_c / N                 (observed agreement = overall accuracy)
    pe = sum_c P_c * L_c / N ** 2      (agreement expected by chance from the two marginals)
    kappa = (po - pe) / (1 - pe)

Use it wherever ``IoUMetric`` goes::

    val_evaluator = dict(type='IoUKappaMetric', iou_metrics=['mIoU'])

It returns IoUMetric's keys (``aAcc``, ``mIoU``, ...) and ``Kappa``, in % like the others.
"""

from typing import Dict

import numpy as np
import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


def cohen_kappa_from_areas(
    area_intersect: torch.Tensor, area_pred_label: torch.Tensor, area_label: torch.Tensor
) -> torch.Tensor:
    """Cohen's Kappa (a fraction, not %) from per-class pixel counts.

    Args:
        area_intersect (Tensor): ``(C,)`` pixels of class ``c`` predicted as ``c``.
        area_pred_label (Tensor): ``(C,)`` labelled pixels predicted as ``c``.
        area_label (Tensor): ``(C,)`` pixels labelled ``c`` (ignored pixels excluded).

    Returns:
        Tensor: ``()`` float64 Kappa in [-1, 1]; NaN when it is undefined (no labelled pixel, or
        ``pe == 1``: prediction and label both a single, identical class).
    """
    inter, pred, label = (t.double() for t in (area_intersect, area_pred_label, area_label))
    n = label.sum()
    po = inter.sum() / n
    pe = (pred * label).sum() / (n * n)
    return (po - pe) / (1 - pe)


def summed_areas(results: list):
    """The four per-class areas of :meth:`IoUMetric.process` summed over samples: ``(area_intersect, area_union,
    area_pred_label, area_label)``, each ``(C,)`` float64."""
    return tuple(torch.stack(list(a)).double().sum(0) for a in zip(*results, strict=True))


@METRICS.register_module()
class IoUKappaMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` that also reports ``Kappa`` (Cohen's Kappa in %).

    Same arguments as ``IoUMetric``; ``nan_to_num`` also replaces an undefined Kappa.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``results``: per-sample tuples ``(area_intersect, area_union, area_pred_label, area_label)``,
        each ``(C,)``, as written by :meth:`IoUMetric.process`."""
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        inter, _, pred, label = summed_areas(results)
        kappa = float(cohen_kappa_from_areas(inter, pred, label))
        if self.nan_to_num is not None and np.isnan(kappa):
            kappa = float(self.nan_to_num)
        metrics['Kappa'] = np.round(kappa * 100, 2)
        return metrics
