"""Dataset converters (the logic behind ``tools/dataset_converters/*.py``).

Every converter writes into a staging folder beside the output and renames it into place
only when the whole conversion succeeded, so a failure never leaves partial output; it
refuses an existing output unless ``overwrite=True`` and never writes into, moves or
deletes its input.
"""

from .common import staged_output
from .dubai_aerial import convert_dubai_aerial
from .loveda_domains import convert_loveda_domains
from .vts import write_vts
from .xbd import convert_xbd

__all__ = ['staged_output', 'convert_dubai_aerial', 'convert_loveda_domains', 'write_vts', 'convert_xbd']
