from typing import Sequence, Union

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ..rs_io import read_rs_image


@TRANSFORMS.register_module()
class LoadRSTile(BaseTransform):
    """Load an image, or the window ``results['tile']`` of it, as a uint8 ``(h, w, 3)`` array.

    Handles png / jpg / tif including 16-bit and multi-band tifs (``bands`` picks R, G, B;
    ``rescale`` maps to uint8; see :func:`grass_mm.datasets.rs_io.read_rs_image`).
    An unreadable or truncated file raises ``ValueError`` naming it.

    Required keys: ``img_path``; optional ``tile`` = ``(x0, y0, w, h)``.
    Added keys: ``img``, ``img_shape``, ``ori_shape``.

    Args:
        bands: 0-based bands used as R, G, B for multi-band files.
        rescale: ``'percentile'``, ``'minmax'``, ``'none'`` or a divisor.
        channel_order: ``'bgr'`` (default, like ``LoadImageFromFile``; pair it with
            ``SelfSupDataPreprocessor(to_rgb=True)``) or ``'rgb'``.
    """

    def __init__(self, bands: Sequence[int] = (0, 1, 2),
                 rescale: Union[str, float] = 'percentile', channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
        if len(bands) != 3:
            raise ValueError(f'bands must name 3 bands, got {bands}')
        self.bands, self.rescale, self.channel_order = tuple(bands), rescale, channel_order

    def transform(self, results: dict) -> dict:
        img = read_rs_image(results['img_path'], self.bands, results.get('tile'), self.rescale)
        if self.channel_order == 'bgr':
            img = img[..., ::-1].copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(bands={self.bands}, rescale={self.rescale!r}, '
                f'channel_order={self.channel_order!r})')
