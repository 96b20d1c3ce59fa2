"""Dataset converters (the logic behind ``tools/dataset_converters/*.py``).

Every converter checks its input first, writes into a staging folder beside the output and
moves it into place only when the whole conversion succeeded, so a failure never leaves
partial output. Its output folder carries a ``.grass_mm_converter`` marker listing what it
wrote: a non-empty folder without it is refused, and ``overwrite=True`` replaces only the
entries an earlier converter wrote (other files stay). It never writes into, moves or
deletes its input.
"""

from .common import staged_output
from .dubai_aerial import convert_dubai_aerial
from .loveda_domains import convert_loveda_domains
from .potsdam import convert_potsdam
from .vts import write_vts
from .xbd import convert_xbd

__all__ = [
    'staged_output',
    'convert_dubai_aerial',
    'convert_loveda_domains',
    'convert_potsdam',
    'write_vts',
    'convert_xbd',
]
