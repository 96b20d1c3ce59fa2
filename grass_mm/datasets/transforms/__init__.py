from .check_label_range import CheckLabelRange
from .load_rs_tile import LoadRSTile

__all__ = ['CheckLabelRange', 'LoadRSTile']
