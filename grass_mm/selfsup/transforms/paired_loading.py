"""Load the two co-registered images of a positive pair (mmpretrain scope)."""

from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmpretrain.registry import TRANSFORMS


def check_pair_compatible(img: np.ndarray, pair_img: np.ndarray, img_name: str, pair_name: str) -> None:
    """Raise ``ValueError`` naming both sources when a pair cannot be co-registered.

    Args:
        img (np.ndarray): First image, ``(H, W)`` or ``(H, W, C)``.
        pair_img (np.ndarray): Partner image, same layout expected.
        img_name (str): How to name ``img`` in the message (file or key).
        pair_name (str): How to name ``pair_img`` in the message.
    """
    for arr, name in ((img, img_name), (pair_img, pair_name)):
        if not isinstance(arr, np.ndarray) or arr.ndim not in (2, 3):
            raise TypeError(
                f'{name}: expected an HxW or HxWxC numpy array, got '
                f'{type(arr).__name__} with shape {getattr(arr, "shape", None)}'
            )
    if img.shape[:2] != pair_img.shape[:2]:
        raise ValueError(
            f'pair images differ in size: {img_name} is {img.shape[0]}x{img.shape[1]} '
            f'but {pair_name} is {pair_img.shape[0]}x{pair_img.shape[1]}'
        )
    bands = 1 if img.ndim == 2 else img.shape[2]
    pair_bands = 1 if pair_img.ndim == 2 else pair_img.shape[2]
    if bands != pair_bands:
        raise ValueError(
            f'pair images differ in band count: {img_name} has {bands} band(s) but {pair_name} has {pair_bands}'
        )


@TRANSFORMS.register_module()
class LoadImagePair(LoadImageFromFile):
    """Load an image and its co-registered partner (two dates, pre/post disaster, clean/noisy).

    Each of the two images is taken from memory when the dataset already put it there
    (``img`` / ``pair_img``, e.g. VTS generated on the fly) and read from disk otherwise
    (``img_path`` / ``pair_path``), with the decoding options of
    :class:`mmcv.transforms.LoadImageFromFile`. The two must have the same height, width
    and band count.

    **Required Keys:** ``img`` or ``img_path``; ``pair_img`` or ``pair_path``.

    **Added / Modified Keys:** ``img`` (H, W, C), ``pair_img`` (H, W, C), ``img_shape``,
    ``ori_shape``.

    Args:
        see :class:`mmcv.transforms.LoadImageFromFile` (``ignore_empty`` is refused: a
        missing partner is an error, never a silent skip).
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get('ignore_empty', False):
            raise ValueError(
                'LoadImagePair: ignore_empty=True is not supported; a missing '
                'image or partner must raise an error naming the file'
            )
        super().__init__(*args, **kwargs)

    def _get(self, results: dict, arr_key: str, path_key: str):
        """Return ``(array, name)`` for one member of the pair."""
        if results.get(arr_key) is not None:
            name = results.get(path_key) or f'in-memory "{arr_key}" of sample {results.get("sample_idx")}'
            arr = results[arr_key]
            if self.to_float32 and isinstance(arr, np.ndarray):
                arr = arr.astype(np.float32)
            return arr, name
        filename = results.get(path_key)
        if filename is None:
            raise KeyError(
                f'LoadImagePair: sample {results.get("sample_idx")} has neither "{arr_key}" nor "{path_key}"'
            )
        try:
            loaded = super().transform({'img_path': filename})
        except FileNotFoundError as e:
            raise FileNotFoundError(f'{path_key}: image file not found: {filename}') from e
        except AssertionError as e:  # mmcv asserts when decoding fails
            raise ValueError(f'{path_key}: cannot decode image file {filename}') from e
        if loaded is None or loaded.get('img') is None:
            raise ValueError(f'{path_key}: cannot decode image file {filename}')
        return loaded['img'], filename

    def transform(self, results: dict) -> Optional[dict]:
        img, img_name = self._get(results, 'img', 'img_path')
        pair_img, pair_name = self._get(results, 'pair_img', 'pair_path')
        check_pair_compatible(img, pair_img, img_name, pair_name)
        results['img'] = img
        results['pair_img'] = pair_img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(to_float32={self.to_float32}, '
            f"color_type='{self.color_type}', imdecode_backend='{self.imdecode_backend}', "
            f'backend_args={self.backend_args})'
        )
