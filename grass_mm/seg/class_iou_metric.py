"""mmseg's :class:`IoUMetric` plus the per-class figures a cross-validation report needs.

mmseg prints per-class IoU in a log table but returns only the summary keys. This metric also
returns, for every class ``c`` (its name from the dataset's ``classes``):

* ``IoU.<c>``: IoU of class ``c`` in % (NaN when the class is neither labelled nor predicted);
* ``share.<c>``: the share of the labelled (not ignored) test pixels that carry label ``c``, in %.

so that a report can give per-class IoU and the mIoU over the classes that cover enough of a
test split (:func:`grass_mm.analysis.folds.miou_over_covered`). Use it wherever ``IoUMetric`` goes::

    val_evaluator = dict(type='ClassIoUMetric', iou_metrics=['mIoU'])
"""

from typing import Dict

import numpy as np
import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

from .iou_kappa_metric import summed_areas


def class_iou_and_share(area_intersect: torch.Tensor, area_union: torch.Tensor, area_label: torch.Tensor):
    """Per-class IoU and label share, both in % (float64).

    Args:
        area_intersect (Tensor): ``(C,)`` pixels of class ``c`` predicted as ``c``.
        area_union (Tensor): ``(C,)`` pixels labelled or predicted ``c``.
        area_label (Tensor): ``(C,)`` pixels labelled ``c`` (ignored pixels excluded).

    Returns:
        tuple[Tensor, Tensor]: IoU ``(C,)`` (NaN where the union is empty) and share ``(C,)``
        (NaN when no pixel is labelled).
    """
    inter, union, label = (t.double() for t in (area_intersect, area_union, area_label))
    return 100 * inter / union, 100 * label / label.sum()


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` that also returns ``IoU.<class>`` and ``share.<class>``.

    Same arguments as ``IoUMetric``; ``nan_to_num`` also replaces undefined per-class values.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``results``: per-sample tuples ``(area_intersect, area_union, area_pred_label, area_label)``,
        each ``(C,)``, as written by :meth:`IoUMetric.process`."""
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        inter, union, _, label = summed_areas(results)
        iou, share = class_iou_and_share(inter, union, label)
        for name, i, s in zip(self.dataset_meta['classes'], iou.tolist(), share.tolist(), strict=True):
            if self.nan_to_num is not None:
                i, s = (float(self.nan_to_num) if np.isnan(v) else v for v in (i, s))
            metrics[f'IoU.{name}'] = float(np.round(i, 2))
            metrics[f'share.{name}'] = float(np.round(s, 3))
        return metrics
