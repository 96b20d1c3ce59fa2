from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .seg_files import CheckedSegFolderMixin
from .xbd_labels import XBD_BUILDING_CLASSES


@DATASETS.register_module()
class XBDSegDataset(CheckedSegFolderMixin, BaseSegDataset):
    """xBD building segmentation (0 background, 1 building).

    Layout written by ``tools/dataset_converters/xbd.py --task building``::

        {data_root}/img_dir/{split}/{disaster}_{id}_pre_disaster.png
        {data_root}/ann_dir/{split}/{disaster}_{id}_pre_disaster.png   index mask

    For the four damage levels use :class:`XBDDamageSegDataset`.
    """

    METAINFO = dict(classes=XBD_BUILDING_CLASSES, palette=[[0, 0, 0], [255, 255, 255]])

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', reduce_zero_label=False, **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label, **kwargs
        )
