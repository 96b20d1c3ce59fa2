"""Two views of a positive pair made of two distinct co-registered images (mmpretrain scope).

Gerard & Sullivan, "Contrastive pretraining for semantic segmentation is robust to noisy
positive pairs": view 1 comes from the image, view 2 from its partner (another date, the
post-disaster image, the noisy VTS twin), each with its own photometric augmentation.
"""

import copy
import random
from contextlib import contextmanager
from typing import Dict, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.registry import TRANSFORMS

Transform = Union[dict, callable]


@contextmanager
def replay_randomness():
    """Context whose body can be run several times with the same random draws.

    Yields a function ``rewind()`` that restores the state of :mod:`random`,
    :mod:`numpy.random` and torch's CPU generator to what it was on entry. Running a
    shape-only random transform, calling ``rewind()``, and running it again on another
    array of the same shape applies exactly the same crop / flip / rotation.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.random.get_rng_state()

    def rewind():
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.random.set_rng_state(torch_state)

    yield rewind


def _check_prob(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f'PairedViews: "{key}" must be a probability in [0, 1], got {value!r}')
    return float(value)


@TRANSFORMS.register_module()
class PairedViews(BaseTransform):
    """Turn a paired item into the two views of a positive pair.

    With probability ``pair_prob`` view 1 is made from ``img`` and view 2 from ``pair_img``;
    otherwise both views are made from ``img`` (the classic "two augmentations of one image"
    pair), so both kinds of pair can be mixed. Each view first goes through the geometric
    pipeline and then through its own photometric pipeline.

    * ``shared_geometry=True`` (dense methods: DenseCL, :class:`PixelPairContrast`, GraSS
      with pairs): both views get the SAME random crop / flip, so pixel ``(u, v)`` of view 1
      and pixel ``(u, v)`` of view 2 show the same ground point. This is done by replaying
      the random generators (``random``, ``numpy.random``, torch CPU) for the second view, so
      it works with any geometric transform whose randomness comes from those generators and
      depends only on the image shape (mmpretrain ``RandomResizedCrop``, ``RandomCrop``,
      mmcv ``RandomFlip``, ``Resize``, ...). Both images must have the same size
      (:class:`LoadImagePair` checks it).
    * ``shared_geometry=False`` (global methods: MoCo v2, SimCLR): independent geometry.

    Photometric pipelines must not change the geometry when ``shared_geometry=True``.

    **Required Keys:** ``img`` (H, W, C) and, if ``pair_prob > 0``, ``pair_img`` (H, W, C).

    **Modified Keys:** ``img`` becomes a list of two views ``[view1, view2]`` (each
    (h, w, C)), the layout that :class:`mmpretrain.datasets.transforms.PackInputs` and the
    mmpretrain self-supervised algorithms (MoCo v2, DenseCL, SimCLR, GraSS) expect;
    ``img_shape``.

    **Added Keys:** ``pair_used`` (bool): whether view 2 came from the partner image.
    ``pair_img`` is removed.

    Args:
        geometric (list[dict | callable]): geometric transforms, e.g.
            ``[dict(type='RandomResizedCrop', scale=224), dict(type='RandomFlip', prob=0.5)]``.
        photometric (list[dict | callable] | list[list]): photometric transforms applied to
            each view independently. Either one list (same recipe for both views, drawn
            independently) or a list of two lists (one recipe per view, BYOL style).
        pair_prob (float): probability of using the partner image for view 2. Default 1.0.
        shared_geometry (bool): same crop / flip for both views. Default True.
    """

    def __init__(
        self,
        geometric: Sequence[Transform] = (),
        photometric: Sequence = (),
        pair_prob: float = 1.0,
        shared_geometry: bool = True,
    ) -> None:
        self.pair_prob = _check_prob(pair_prob, 'pair_prob')
        if not isinstance(shared_geometry, bool):
            raise TypeError(f'PairedViews: "shared_geometry" must be a bool, got {shared_geometry!r}')
        self.shared_geometry = shared_geometry
        self.geometric = Compose(list(geometric))
        photometric = list(photometric)
        if photometric and all(isinstance(p, (list, tuple)) for p in photometric):
            if len(photometric) != 2:
                raise ValueError(
                    'PairedViews: "photometric" given per view must hold exactly 2 '
                    f'lists (one per view), got {len(photometric)}'
                )
            self.photometric = [Compose(list(p)) for p in photometric]
        else:
            pipe = Compose(photometric)
            self.photometric = [pipe, pipe]

    @staticmethod
    def _run(pipeline: Compose, meta: Dict, img: np.ndarray) -> Dict:
        results = copy.deepcopy(meta)
        results['img'] = img.copy()  # transforms may work in place (flip views, ...)
        results['img_shape'] = img.shape[:2]
        out = pipeline(results)
        if out is None:
            raise RuntimeError(f'PairedViews: a transform of {pipeline} returned None')
        return out

    def transform(self, results: dict) -> dict:
        img = results['img']
        pair_used = bool(self.pair_prob > 0 and np.random.rand() < self.pair_prob)
        if pair_used:
            if results.get('pair_img') is None:
                raise KeyError(
                    'PairedViews: "pair_img" is missing (load it with LoadImagePair) '
                    f'for sample {results.get("sample_idx")}; pair_prob={self.pair_prob}'
                )
            other = results['pair_img']
            if other.shape != img.shape:
                raise ValueError(
                    f'PairedViews: "img" {img.shape} and "pair_img" {other.shape} '
                    f'differ in shape for sample {results.get("sample_idx")}'
                )
        else:
            other = img
        meta = {k: v for k, v in results.items() if k not in ('img', 'pair_img')}

        if self.shared_geometry:
            with replay_randomness() as rewind:
                geo1 = self._run(self.geometric, meta, img)
                after_first = (random.getstate(), np.random.get_state(), torch.random.get_rng_state())
                rewind()
                geo2 = self._run(self.geometric, meta, other)
            # continue from where the first draw left the generators
            random.setstate(after_first[0])
            np.random.set_state(after_first[1])
            torch.random.set_rng_state(after_first[2])
        else:
            geo1 = self._run(self.geometric, meta, img)
            geo2 = self._run(self.geometric, meta, other)

        view1 = self.photometric[0](geo1)
        view2 = self.photometric[1](geo2)
        results.pop('pair_img', None)
        for key, value in view1.items():  # geometry meta (img_shape, flip, ...) of view 1
            if key != 'img':
                results[key] = value
        results['img'] = [view1['img'], view2['img']]
        results['pair_used'] = pair_used
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(pair_prob={self.pair_prob}, '
            f'shared_geometry={self.shared_geometry},\n  geometric={self.geometric},\n'
            f'  photometric={self.photometric})'
        )
