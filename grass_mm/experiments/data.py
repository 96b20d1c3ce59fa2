"""The data of a study: the dataset keys of its configs, the Dubai folds, the VTS set of the quickstart.

Every function returns a *data* dict ``dict(name, seg, num_classes, crop)``: ``seg`` holds the dataset keys of
a segmentation config (:data:`DATASET_KEYS`: train/val/test dataloaders, evaluators, TTA pipeline), which the
config builders (:mod:`grass_mm.experiments.configs`) put into every fine-tuning config, and whose training
images are what every pretraining reads.
"""

import glob
import os
import os.path as osp
import re
from typing import List, Optional, Tuple

from .configs import image_folder, load_config
from .paths import DEMO_DATA, DUBAI_DATASET, VTS_DATASET, packaged_config
from .settings import QuickstartSettings, SweepError, SweepSettings

DATASET_KEYS = (
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
    'tta_pipeline',  # tools/test.py --tta
)
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.tif', '.tiff')


def split_images(seg: dict, split: str) -> List[str]:
    """Sorted image files of the ``{split}_dataloader`` dataset's image folder."""
    folder = osp.join(*image_folder(seg, split))
    return sorted(
        q for q in glob.glob(osp.join(folder, '**', '*'), recursive=True) if q.lower().endswith(IMAGE_SUFFIXES)
    )


def data_roots(data: dict) -> list:
    """The folders the dataloaders of ``data`` read."""
    return [
        d.get('data_root')
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        if data['seg'].get(key)
        for d in [data['seg'][key].get('dataset', {})]
    ]


def scaled_dubai(root: str, size: int, scale: Optional[int] = None) -> dict:
    """The Dubai dataset config (:data:`~grass_mm.experiments.paths.DUBAI_DATASET`) at ``root``: crops of
    ``size`` px from images resized to fit ``scale`` px (default ``2 * size``; the test images too)."""
    scale = scale or 2 * size
    cfg = load_config(packaged_config(DUBAI_DATASET))
    seg = {k: cfg[k] for k in DATASET_KEYS}
    # test-time augmentation around the same test scale: flips x scales (ratios of SCALE, not of the image)
    for tta in (t for t in seg['tta_pipeline'] if t['type'] == 'TestTimeAug'):
        for group in tta['transforms']:
            for t in group:
                if t['type'] == 'Resize' and 'scale_factor' in t:
                    t.update(scale=(round(scale * t.pop('scale_factor')),) * 2)
    for key in ('train_dataloader', 'val_dataloader'):
        seg[key].dataset.data_root = root
        seg[key].dataset.pipeline = [
            dict(t, scale=(scale, scale))
            if t['type'] in ('RandomResize', 'Resize')
            else dict(t, crop_size=(size, size))
            if t['type'] == 'RandomCrop'
            else t
            for t in seg[key].dataset.pipeline
        ]
    seg['test_dataloader'] = seg['val_dataloader']
    return dict(name='Dubai', seg=seg, num_classes=6, crop=(size, size))


def tile_folds(s: SweepSettings) -> Tuple[List[str], List[str]]:
    """``--folds tiles``: ``(every tile of the Dubai data, the tiles whose folds run now)``."""
    if s.dataset_config:
        raise SweepError('--folds tiles needs the Dubai data (tile_N folders), not --dataset-config')
    src = s.data or DEMO_DATA
    tiles = sorted(
        (d for d in os.listdir(src) if re.fullmatch(r'tile_\d+', d) and osp.isdir(osp.join(src, d, 'images')))
        if osp.isdir(src)
        else [],
        key=lambda d: int(d[5:]),
    )
    if s.reuse_pretraining:
        raise SweepError('--folds tiles pretrains per fold: --reuse-pretraining does not apply')
    if len(tiles) < 2:
        raise SweepError(f'--folds tiles: {src} needs at least two tile_N/images folders (the raw Kaggle layout)')
    chosen = s.fold_tiles or tiles
    unknown = sorted(set(chosen) - set(tiles))
    if unknown:
        raise SweepError(f'--fold-tiles {" ".join(unknown)}: no such tile in {src} (tiles: {" ".join(tiles)})')
    return tiles, [t for t in tiles if t in chosen]


def _dataset_config(s: SweepSettings) -> dict:
    """The data of ``--dataset-config``."""
    path = s.dataset_config
    if not osp.isfile(path):
        raise SweepError(f'--dataset-config {path} does not exist')
    cfg = load_config(path)
    missing = [k for k in ('train_dataloader', 'val_dataloader', 'val_evaluator') if k not in cfg]
    if missing:
        raise SweepError(f'--dataset-config {path} lacks {missing}')
    ds = cfg.train_dataloader.dataset
    train_dir = osp.join(*image_folder(cfg, 'train'))
    if not osp.isdir(train_dir):
        raise SweepError(
            f'--dataset-config {path}: training images {train_dir} '
            f'(train_dataloader.dataset.data_root + data_prefix.img_path) do not exist'
        )
    num_classes = cfg.get('num_classes', None)
    if num_classes is None:
        from mmseg.registry import DATASETS
        from mmseg.utils import register_all_modules

        import grass_mm  # noqa: F401

        register_all_modules(init_default_scope=False)
        cls = DATASETS.get(ds.type)
        if cls is None:
            raise SweepError(f'--dataset-config {path}: unknown dataset type {ds.type!r}')
        num_classes = len(cls.METAINFO['classes'])
    crop = cfg.get('crop_size', (s.size, s.size))
    seg = {k: cfg[k] for k in DATASET_KEYS if k in cfg}
    seg.setdefault('test_dataloader', cfg.val_dataloader)
    seg.setdefault('test_evaluator', cfg.val_evaluator)
    name = ds.type[: -len('Dataset')] if ds.type.endswith('Dataset') else ds.type
    return dict(name=name, seg=seg, num_classes=num_classes, crop=tuple(crop))


def prepare_data(s: SweepSettings, work_dir: str, val_tile: Optional[str] = None) -> dict:
    """The data of the settings: ``--dataset-config``, a converted Dubai root, or the raw Dubai layout (converted
    into ``work_dir/data``; the shipped demo tiles by default).

    ``val_tile``: convert the raw Dubai data with that tile as the validation split (a fold of ``--folds tiles``);
    default tile_6.
    """
    if s.dataset_config:
        return _dataset_config(s)
    from grass_mm.datasets.converters import convert_dubai_aerial

    src = s.data or DEMO_DATA
    what = f'--data {s.data}' if s.data else f'the demo data {DEMO_DATA}'
    if not osp.isdir(src):
        raise SweepError(f'{what} is not a folder')
    if osp.isdir(osp.join(src, 'img_dir', 'train')):
        if val_tile:
            raise SweepError(f'{what}: a converted root has a fixed split; --folds tiles needs the raw tile_N layout')
        return scaled_dubai(osp.abspath(src), s.size, s.seg_scale)
    if not glob.glob(osp.join(src, 'tile_*', 'images')):
        raise SweepError(
            f'{what}: neither a converted root (img_dir/train) nor the raw Kaggle layout (tile_N/images, tile_N/masks)'
        )
    root = osp.abspath(osp.join(work_dir, 'data', 'dubai_aerial'))
    if not osp.isdir(osp.join(root, 'img_dir', 'train')):
        print(f'[data] converting the Dubai aerial data {src} -> {root}', flush=True)
        try:
            convert_dubai_aerial(src, root, val_tiles=(val_tile or 'tile_6',))
        except (FileNotFoundError, ValueError) as err:
            raise SweepError(f'{what}: {err}') from None
    return scaled_dubai(root, s.size, s.seg_scale)


def prepare_vts(s: QuickstartSettings, work_dir: str) -> dict:
    """``--vts``: the synthetic Voronoi-texture set, written into ``work_dir/data/vts`` (once)."""
    from grass_mm.datasets.converters import write_vts

    root = osp.abspath(osp.join(work_dir, 'data', 'vts'))
    if not osp.isdir(osp.join(root, 'img_dir')):
        print(f'[data] writing VTS ({s.num_train} train + {s.num_val} val images, {s.size} px) -> {root}', flush=True)
        write_vts(root, s.num_train, s.num_val, seed=s.seeds[0], r_img=0.0, size=s.size, progress=False)
    cfg = load_config(packaged_config(VTS_DATASET))
    seg = {k: cfg[k] for k in DATASET_KEYS}
    for k in ('train_dataloader', 'val_dataloader'):
        seg[k].dataset.data_root = root
    seg['test_dataloader'] = seg['val_dataloader']
    return dict(name='VTS', seg=seg, num_classes=2, crop=(s.size, s.size))
