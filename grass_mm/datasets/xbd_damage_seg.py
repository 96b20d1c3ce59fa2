from mmseg.registry import DATASETS

from .xbd_labels import XBD_DAMAGE_CLASSES
from .xbd_seg import XBDSegDataset


@DATASETS.register_module()
class XBDDamageSegDataset(XBDSegDataset):
    """xBD damage segmentation on post-disaster images.

    Layout written by ``tools/dataset_converters/xbd.py --task damage``; masks: 0 background,
    1 no-damage, 2 minor-damage, 3 major-damage, 4 destroyed, 255 un-classified (ignored).
    """

    METAINFO = dict(
        classes=XBD_DAMAGE_CLASSES, palette=[[0, 0, 0], [0, 255, 0], [255, 255, 0], [255, 128, 0], [255, 0, 0]]
    )
