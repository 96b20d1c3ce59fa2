from mmseg.datasets import LoveDADataset
from mmseg.registry import DATASETS

from .seg_files import CheckedSegFolderMixin


@DATASETS.register_module()
class LoveDAUrbanDataset(CheckedSegFolderMixin, LoveDADataset):
    """LoveDA, Urban domain only (mmseg's :class:`LoveDADataset` merges both domains).

    Layout written by ``tools/dataset_converters/loveda_domains.py``::

        {data_root}/img_dir/{train,val,test}/*.png   (1024x1024 RGB, 0.3 m)
        {data_root}/ann_dir/{train,val}/*.png       (0 no-data, 1..7 classes)

    Classes, palette and ``reduce_zero_label=True`` are LoveDA's (7 classes, 0 -> 255).
    ``on_missing='error'`` (default) raises on an image without mask or the reverse;
    ``'skip'`` drops them with a warning.
    """

    domain = 'Urban'
