from typing import Sequence

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .vts import VTS_TEXTURES, vts_sample


@DATASETS.register_module()
class VTSPairDataset(BaseDataset):
    """VTS clean / noisy pairs for pretraining, generated on the fly (see :mod:`.vts`).

    Item ``i`` is ``vts_sample(seed, i, r_img=r_img)``; its data info carries ``img`` (clean)
    and ``pair_img`` (the noisy twin), both ``(size, size, 3)`` uint8 (grey textures, so
    channel order does not matter), ``sample_idx``, and ``noisy_cell_fraction`` (the exact
    fraction of re-filled cells). ``LoadImagePair`` passes the arrays on.

    Args:
        num_samples: dataset length.
        seed: set seed; item ``i`` is deterministic from ``(seed, i)``.
        r_img: fraction of the ``num_cells`` cells re-filled with the noise texture.
    """

    METAINFO = dict(classes=('brick', 'grass'))

    def __init__(
        self,
        num_samples: int = 1000,
        seed: int = 0,
        r_img: float = 0.5,
        size: int = 256,
        num_cells: int = 20,
        textures: Sequence[str] = VTS_TEXTURES,
        **kwargs,
    ) -> None:
        if int(num_samples) <= 0:
            raise ValueError(f'num_samples must be positive, got {num_samples}')
        if not 0.0 <= float(r_img) <= 1.0:
            raise ValueError(f'r_img must be in [0, 1], got {r_img}')
        self.num_samples, self.seed, self.r_img = int(num_samples), int(seed), float(r_img)
        self.size, self.num_cells, self.textures = size, num_cells, tuple(textures)
        kwargs.setdefault('ann_file', '')
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(vts_index=i) for i in range(self.num_samples)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        s = vts_sample(
            self.seed,
            info['vts_index'],
            size=self.size,
            num_cells=self.num_cells,
            r_img=self.r_img,
            textures=self.textures,
        )
        info.update(img=s['img'], pair_img=s['noisy_img'], noisy_cell_fraction=float(s['noisy_cells'].mean()))
        return info
