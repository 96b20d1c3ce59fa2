from typing import Optional, Sequence, Union

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ..rs_io import CorruptImageError, check_on_corrupt, read_rs_image, skip_corrupt


@TRANSFORMS.register_module()
class LoadRSTile(BaseTransform):
    """Load an image, or the window ``results['tile']`` of it, as a uint8 ``(h, w, 3)`` array.

    Handles png / jpg / tif including 16-bit and multi-band tifs (``bands`` picks R, G, B;
    ``rescale`` maps to uint8; see :func:`grass_mm.datasets.rs_io.read_rs_image`).
    An unreadable or truncated file raises :class:`~grass_mm.datasets.rs_io.CorruptImageError`
    (a ``ValueError``) naming it, or with ``on_corrupt='skip'`` is skipped with one warning per
    file (training draws another sample).

    Required keys: ``img_path``; optional ``tile`` = ``(x0, y0, w, h)``.
    Added keys: ``img``, ``img_shape``, ``ori_shape``.

    Args:
        bands: 0-based bands used as R, G, B for multi-band files.
        rescale: ``'percentile'``, ``'minmax'``, ``'none'`` or a divisor.
        channel_order: ``'bgr'`` (default, like ``LoadImageFromFile``; pair it with
            ``SelfSupDataPreprocessor(to_rgb=True)``) or ``'rgb'``.
        on_corrupt: ``'error'`` (default) or ``'skip'``.
    """

    def __init__(
        self,
        bands: Sequence[int] = (0, 1, 2),
        rescale: Union[str, float] = 'percentile',
        channel_order: str = 'bgr',
        on_corrupt: str = 'error',
    ) -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
        if len(bands) != 3:
            raise ValueError(f'bands must name 3 bands, got {bands}')
        self.bands, self.rescale, self.channel_order = tuple(bands), rescale, channel_order
        self.on_corrupt = check_on_corrupt(on_corrupt)
        self._warned = set()

    def transform(self, results: dict) -> Optional[dict]:
        try:
            img = read_rs_image(results['img_path'], self.bands, results.get('tile'), self.rescale)
        except CorruptImageError as e:
            if self.on_corrupt == 'skip':
                return skip_corrupt(results['img_path'], str(e), self._warned)
            raise
        if self.channel_order == 'bgr':
            img = img[..., ::-1].copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (
            f'{self.__class__.__name__}(bands={self.bands}, rescale={self.rescale!r}, '
            f'channel_order={self.channel_order!r}, on_corrupt={self.on_corrupt!r})'
        )
