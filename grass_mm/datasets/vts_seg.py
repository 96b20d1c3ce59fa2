from typing import Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .seg_files import CheckedSegFolderMixin
from .vts import VTS_CLASSES, VTS_TEXTURES, vts_sample


@DATASETS.register_module()
class VTSSegDataset(CheckedSegFolderMixin, BaseSegDataset):
    """Voronoi-texture set for segmentation: 2 classes (brick, grass), see :mod:`.vts`.

    On the fly (``num_samples`` given): item ``i`` is ``vts_sample(seed, i)``; its data info
    carries ``img`` ``(size, size, 3)`` uint8 and ``gt_seg_map`` ``(size, size)`` uint8, so
    the pipeline starts with ``LoadImageFromNDArray`` (no ``LoadAnnotations``).

    From disk (``num_samples=None``): the mmseg layout written by
    ``tools/dataset_converters/vts.py`` (``img_dir``/``ann_dir``, ``.png``), read like any
    mmseg folder dataset with the usual ``LoadImageFromFile`` / ``LoadAnnotations``.
    """

    METAINFO = dict(classes=VTS_CLASSES, palette=[[200, 60, 40], [60, 180, 60]])

    def __init__(
        self,
        num_samples: Optional[int] = None,
        seed: int = 0,
        size: int = 256,
        num_cells: int = 20,
        textures=VTS_TEXTURES,
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        **kwargs,
    ) -> None:
        if num_samples is not None and int(num_samples) <= 0:
            raise ValueError(f'num_samples must be positive, got {num_samples}')
        self.num_samples = num_samples
        self.vts_cfg = dict(seed=seed, size=size, num_cells=num_cells, textures=tuple(textures))
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, reduce_zero_label=reduce_zero_label, **kwargs
        )

    def load_data_list(self):
        if self.num_samples is None:
            return super().load_data_list()
        return [
            dict(vts_index=i, label_map=self.label_map, reduce_zero_label=False, seg_fields=[])
            for i in range(int(self.num_samples))
        ]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if self.num_samples is not None:
            cfg = self.vts_cfg
            s = vts_sample(
                cfg['seed'], info['vts_index'], size=cfg['size'], num_cells=cfg['num_cells'], textures=cfg['textures']
            )
            info.update(img=s['img'], gt_seg_map=s['gt_seg_map'], seg_fields=['gt_seg_map'])
        return info
