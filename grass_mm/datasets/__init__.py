"""Remote-sensing datasets.

mmseg scope: :class:`LoveDAUrbanDataset`, :class:`LoveDARuralDataset`,
:class:`DubaiAerialDataset`, :class:`XBDSegDataset`,
:class:`LabelSubsetDataset` (seeded label fraction of any dataset), :class:`XBDDamageSegDataset`,
:class:`VTSSegDataset` (Potsdam reuses mmseg's ``PotsdamDataset``).
mmpretrain scope: :class:`RSTileDataset`, :class:`XBDPairDataset`, :class:`VTSPairDataset`
and the ``LoadRSTile`` transform. Pure helpers: :mod:`.vts` (generator), :mod:`.xbd_labels`,
:mod:`.rs_io`, :func:`colour_mask_to_index`.
"""

from .dubai import DubaiAerialDataset, colour_mask_to_index
from .label_subset import LabelSubsetDataset, choose_subset
from .loveda_rural import LoveDARuralDataset
from .loveda_urban import LoveDAUrbanDataset
from .rs_tiles import RSTileDataset
from .transforms import CheckLabelRange, LoadRSTile
from .vts import vts_sample
from .vts_pairs import VTSPairDataset
from .vts_seg import VTSSegDataset
from .xbd_damage_seg import XBDDamageSegDataset
from .xbd_pairs import XBDPairDataset
from .xbd_seg import XBDSegDataset

__all__ = [
    'DubaiAerialDataset',
    'colour_mask_to_index',
    'LabelSubsetDataset',
    'choose_subset',
    'LoveDARuralDataset',
    'LoveDAUrbanDataset',
    'RSTileDataset',
    'LoadRSTile',
    'CheckLabelRange',
    'vts_sample',
    'VTSPairDataset',
    'VTSSegDataset',
    'XBDDamageSegDataset',
    'XBDPairDataset',
    'XBDSegDataset',
]
