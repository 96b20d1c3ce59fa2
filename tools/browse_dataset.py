"""Write PNG previews of what a dataset config's loader produces.

* segmentation datasets (mmseg scope): ``image | image with mask overlay`` after the
  pipeline (255 = ignore is left uncoloured);
* pretraining datasets (mmpretrain scope): the views side by side after the pipeline, or
  with ``--raw`` the image and its pair (``pair_img`` / ``pair_path``) side by side before it.

Example::

    python tools/browse_dataset.py configs/_base_/datasets/dubai.py -o work_dirs/browse \
        --split val --num 8 --cfg-options val_dataloader.dataset.data_root=data/dubai_aerial
"""

import argparse
import os
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from PIL import Image

import grass_mm  # noqa: F401  (registers the datasets)


def to_hwc_uint8(x, bgr=True):
    """``(3, H, W)`` tensor / array (BGR as packed by the pipelines) -> ``(H, W, 3)`` RGB uint8."""
    a = x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, -1)
    a = np.clip(a, 0, 255).astype(np.uint8)
    return a[..., ::-1] if bgr else a


def overlay(img, mask, palette, alpha=0.5, ignore_index=255):
    """Blend ``palette[mask]`` over ``img`` ``(H, W, 3)`` uint8; ignore pixels stay as they are."""
    pal = np.asarray(palette, dtype=np.float32)
    m = np.asarray(mask).astype(np.int64)
    valid = (m != ignore_index) & (m >= 0) & (m < len(pal))
    colour = pal[np.where(valid, m, 0)]
    out = img.astype(np.float32)
    out[valid] = (1 - alpha) * out[valid] + alpha * colour[valid]
    return out.astype(np.uint8)


def side_by_side(images, gap=4):
    h = max(i.shape[0] for i in images)
    padded = [np.pad(i, ((0, h - i.shape[0]), (0, gap), (0, 0)), constant_values=255) for i in images]
    return np.concatenate(padded, 1)[:, :-gap]


def render(dataset, idx, raw=False):
    """Preview of item ``idx`` as an ``(H, W, 3)`` RGB uint8 array."""
    if raw:
        from grass_mm.datasets.rs_io import read_rs_image

        info = dataset.get_data_info(idx)
        views = []
        for key, path_key in (('img', 'img_path'), ('pair_img', 'pair_path')):
            if info.get(key) is not None:
                views.append(np.asarray(info[key], dtype=np.uint8))
            elif info.get(path_key):
                views.append(read_rs_image(info[path_key], window=info.get('tile')))
        if not views:
            raise ValueError(f'item {idx} has neither img nor img_path')
        return side_by_side(views)
    item = dataset[idx]
    inputs, sample = item['inputs'], item.get('data_samples')
    if isinstance(inputs, (list, tuple)):
        return side_by_side([to_hwc_uint8(v) for v in inputs])
    img = to_hwc_uint8(inputs)
    if sample is not None and 'gt_sem_seg' in sample:
        mask = sample.gt_sem_seg.data.cpu().numpy()[0]
        if mask.shape != img.shape[:2]:  # test pipelines resize the image, not the mask
            mask = np.asarray(Image.fromarray(mask.astype(np.uint8)).resize(img.shape[1::-1], Image.NEAREST))
        return side_by_side([img, overlay(img, mask, dataset.metainfo['palette'])])
    return img


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='config with train/val/test_dataloader')
    p.add_argument('-o', '--out-dir', default='work_dirs/browse_dataset')
    p.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    p.add_argument('--num', type=int, default=8, help='number of items to write')
    p.add_argument('--raw', action='store_true', help='image and pair before the pipeline')
    p.add_argument('--scope', default=None, help='mmseg or mmpretrain (default: guessed)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    cfg = Config.fromfile(a.config)
    cfg.merge_from_dict(a.cfg_options)
    loader = cfg.get(f'{a.split}_dataloader')
    if loader is None:
        raise KeyError(f'{a.config} has no {a.split}_dataloader')
    import mmpretrain.registry as P
    import mmseg.registry as S

    scope = (
        a.scope
        or cfg.get('default_scope')
        or ('mmpretrain' if loader['dataset']['type'] in P.DATASETS.module_dict else 'mmseg')
    )
    init_default_scope(scope)
    dataset = (P if scope == 'mmpretrain' else S).DATASETS.build(loader['dataset'])
    os.makedirs(a.out_dir, exist_ok=True)
    n = min(a.num, len(dataset))
    for i in range(n):
        Image.fromarray(render(dataset, i, a.raw)).save(osp.join(a.out_dir, f'{i:05d}.png'))
    print(f'wrote {n} preview(s) of {type(dataset).__name__} to {a.out_dir}')
    return n


if __name__ == '__main__':
    main()
