from .check_label_range import CheckLabelRange
from .checked_load_annotations import CheckedLoadAnnotations
from .checked_load_image import CheckedLoadImageFromFile
from .load_rs_tile import LoadRSTile

__all__ = ['CheckLabelRange', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile', 'LoadRSTile']
