"""Are GraSS's DARs "singular ground objects"? Dominant-class purity of DAR crops.

For labelled images, each image gives ``--views`` RandomResizedCrop views (scale 0.08-1,
``--size`` px) with their label crops. A GraSS model (config + checkpoint) computes the DAR
box of every view (batched, negatives = the other views). Reported means, over views with
labelled pixels:

* ``dar``    - dominant-class fraction inside the DAR box;
* ``random`` - same for a box of the same size at a random place in the same view;
* ``view``   - same for the whole RandomResizedCrop view.

Purity = (pixels of the most frequent class) / (labelled pixels); ignore labels excluded.

    python tools/analysis/dar_purity.py CONFIG [--checkpoint CKPT] --dubai ../shared/data/dubai_aerial
    python tools/analysis/dar_purity.py CONFIG --img-dir D/img_dir --ann-dir D/ann_dir [--reduce-zero-label]
"""

import argparse
import glob
import os.path as osp

import numpy as np
import torch
from PIL import Image

# Dubai colour table (../shared/data/README.md): index = position; black -> ignore
DUBAI_COLOURS = ['3C1098', '8429F6', '6EC1E4', 'FEDD3A', 'E2A929', '9B9B9B']
IGNORE = 255


def dubai_pairs(root):
    imgs = sorted(glob.glob(osp.join(root, 'tile_*', 'images', '*.jpg')))
    if not imgs:
        raise FileNotFoundError(f'no tile_*/images/*.jpg under --dubai {root}')
    return [(p, p.replace('/images/', '/masks/').rsplit('.', 1)[0] + '.png') for p in imgs]


def read_dubai_mask(path):
    rgb = np.asarray(Image.open(path).convert('RGB')).astype(np.int32)
    code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    out = np.full(code.shape, IGNORE, np.uint8)
    for i, c in enumerate(DUBAI_COLOURS):
        out[code == int(c, 16)] = i
    return out


def purity(labels, num_classes=256):
    """labels (N, h, w) int64 with IGNORE -> (N,) dominant fraction (nan if nothing labelled)."""
    flat = labels.flatten(1)
    valid = flat != IGNORE
    counts = torch.zeros(len(flat), num_classes, dtype=torch.long)
    counts.scatter_add_(1, torch.where(valid, flat, 0), valid.long())
    tot = valid.sum(1).float()
    return torch.where(tot > 0, counts.amax(1).float() / tot.clamp(min=1), torch.nan)


def box_purity(labels, boxes):
    """labels (N, H, W), boxes (N, 4) x0 y0 x1 y1 inclusive -> (N,) purity inside each box."""
    N, H, W = labels.shape
    ys, xs = torch.arange(H)[None, :, None], torch.arange(W)[None, None, :]
    x0, y0, x1, y1 = (b[:, None, None] for b in boxes.unbind(1))
    inside = (ys >= y0) & (ys <= y1) & (xs >= x0) & (xs <= x1)
    return purity(torch.where(inside, labels, IGNORE))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--checkpoint')
    p.add_argument('--dubai')
    p.add_argument('--img-dir')
    p.add_argument('--ann-dir')
    p.add_argument('--reduce-zero-label', action='store_true')
    p.add_argument('--views', type=int, default=4)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--batch', type=int, default=16, help='views per GraSS batch')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS
    from torchvision.transforms import RandomResizedCrop

    import grass_mm  # noqa: F401

    init_default_scope('mmpretrain')
    cfg = Config.fromfile(args.config)
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    mean = torch.tensor(cfg.data_preprocessor.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.data_preprocessor.std).view(1, 3, 1, 1)

    if args.dubai:
        pairs, read_mask = dubai_pairs(args.dubai), read_dubai_mask
    else:
        if not (args.img_dir and args.ann_dir):
            raise ValueError('give --dubai ROOT or both --img-dir and --ann-dir')
        imgs = sorted(glob.glob(osp.join(args.img_dir, '*.*')))
        if not imgs:
            raise FileNotFoundError(f'no images in --img-dir {args.img_dir}')
        pairs = [(i, osp.join(args.ann_dir, osp.splitext(osp.basename(i))[0] + '.png')) for i in imgs]

        def read_mask(path):
            m = np.asarray(Image.open(path)).astype(np.int64)
            if args.reduce_zero_label:
                m = np.where(m == 0, IGNORE + 1, m) - 1
            return np.clip(m, 0, IGNORE).astype(np.uint8)

    torch.manual_seed(args.seed)
    rrc = RandomResizedCrop(args.size, scale=(0.08, 1.0))
    views, labels = [], []
    for img_path, mask_path in pairs:
        img = torch.from_numpy(np.asarray(Image.open(img_path).convert('RGB')).copy())
        img = img.permute(2, 0, 1).float()
        lab = torch.from_numpy(read_mask(mask_path).astype(np.int64))[None].float()
        for _ in range(args.views):
            i, j, h, w = rrc.get_params(img, rrc.scale, rrc.ratio)
            views.append(
                torch.nn.functional.interpolate(
                    img[None, :, i : i + h, j : j + w],
                    size=(args.size, args.size),
                    mode='bilinear',
                    align_corners=False,
                )[0]
            )
            labels.append(
                torch.nn.functional.interpolate(
                    lab[None, :, i : i + h, j : j + w], size=(args.size, args.size), mode='nearest'
                )[0, 0].long()
            )
    views = (torch.stack(views) - mean) / std
    labels = torch.stack(labels)
    n = len(views) - len(views) % 2
    res = {k: [] for k in ('dar', 'random', 'view')}
    g = torch.Generator().manual_seed(args.seed)
    for s in range(0, n, args.batch):
        v, lab = views[s : s + args.batch], labels[s : s + args.batch]
        v, lab = v[: len(v) - len(v) % 2], lab[: len(lab) - len(lab) % 2]
        if len(v) < 4:
            continue
        _, _, boxes = model.guided_crops(v, return_maps=True)
        bw, bh = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        rx = (torch.rand(len(v), generator=g) * (args.size - bw + 1)).long()
        ry = (torch.rand(len(v), generator=g) * (args.size - bh + 1)).long()
        rand_boxes = torch.stack([rx, ry, rx + bw - 1, ry + bh - 1], 1)
        res['dar'].append(box_purity(lab, boxes))
        res['random'].append(box_purity(lab, rand_boxes))
        res['view'].append(purity(lab))
    out = {k: torch.cat(v) for k, v in res.items()}
    ok = ~(out['dar'].isnan() | out['random'].isnan() | out['view'].isnan())
    print(
        f'{int(ok.sum())} views from {len(pairs)} images, {args.size}px, '
        f'checkpoint={args.checkpoint or "none (random init)"}'
    )
    for k in ('dar', 'random', 'view'):
        print(f'mean dominant-class fraction  {k:7s} {out[k][ok].mean():.4f}')


if __name__ == '__main__':
    main()
