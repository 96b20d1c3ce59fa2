import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def out_of_range_values(seg_map: np.ndarray, num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Sorted values of ``seg_map`` ``(H, W)`` that are neither in ``[0, num_classes)`` nor ``ignore_index``."""
    vals = np.unique(seg_map)
    return vals[((vals < 0) | (vals >= num_classes)) & (vals != ignore_index)]


@TRANSFORMS.register_module()
class CheckLabelRange(BaseTransform):
    """Fail loudly on mask values outside ``[0, num_classes)`` and ``ignore_index``.

    Put it right after ``LoadAnnotations`` (mmseg scope). Without it, a stray value trains
    into an index error without a file name, or is dropped by ``IoUMetric`` silently.

    Required keys: ``gt_seg_map`` ``(H, W)``; ``seg_map_path`` (named in the error).

    Raises:
        ValueError: naming the mask file and the offending values.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        if int(num_classes) <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes, self.ignore_index = int(num_classes), ignore_index

    def transform(self, results: dict) -> dict:
        bad = out_of_range_values(results['gt_seg_map'], self.num_classes, self.ignore_index)
        if bad.size:
            raise ValueError(
                f'mask {results.get("seg_map_path")} has value(s) {bad.tolist()} '
                f'outside 0..{self.num_classes - 1} and {self.ignore_index} (after '
                f'reduce_zero_label={results.get("reduce_zero_label")})'
            )
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(num_classes={self.num_classes}, ignore_index={self.ignore_index})'
