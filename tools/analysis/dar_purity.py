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

from grass_mm.utils.cli import load_grass, run_main  # first: filters the third-party warnings

# isort: split

import numpy as np
import torch
from PIL import Image

# Dubai colour table (../shared/data/README.md): index = position; black -> ignore
DUBAI_COLOURS = ['3C1098', '8429F6', '6EC1E4', 'FEDD3A', 'E2A929', '9B9B9B']
IGNORE = 255
IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


def dubai_pairs(root):
    if not osp.isdir(root):
        raise FileNotFoundError(f'--dubai {root} is not a folder')
    imgs = sorted(glob.glob(osp.join(root, 'tile_*', 'images', '*.jpg')))
    if not imgs:
        raise FileNotFoundError(f'no tile_*/images/*.jpg under --dubai {root}')
    return [(p, p.replace('/images/', '/masks/').rsplit('.', 1)[0] + '.png') for p in imgs]


def folder_pairs(img_dir, ann_dir):
    """``[(image, mask)]`` of ``--img-dir`` / ``--ann-dir`` (mask = image stem + ``.png``)."""
    for flag, folder in (('--img-dir', img_dir), ('--ann-dir', ann_dir)):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{flag} {folder} is not a folder')
    imgs = sorted(p for p in glob.glob(osp.join(img_dir, '*.*')) if p.lower().endswith(IMAGE_EXTS))
    if not imgs:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in --img-dir {img_dir}')
    return [(i, osp.join(ann_dir, osp.splitext(osp.basename(i))[0] + '.png')) for i in imgs]


def check_pairs(pairs):
    """Every mask exists (before any model is built); raises FileNotFoundError naming the first missing."""
    missing = [m for _, m in pairs if not osp.isfile(m)]
    if missing:
        raise FileNotFoundError(f'mask {missing[0]} not found ({len(missing)} of {len(pairs)} images have none)')


def read_image(path):
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert('RGB')).copy()
    except (OSError, ValueError) as err:
        raise ValueError(f'image {path} cannot be read: {err}') from None


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


def parse_args(argv=None):
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
    p.add_argument(
        '--lam-norm',
        nargs='+',
        default=None,
        help="LAM normalisation(s) to compare on the same views (e.g. original relu); default: the model's own",
    )
    p.add_argument('--csv', help='append one row per LAM normalisation to this CSV file (created with a header)')
    p.add_argument('--tag', default='', help='value of the CSV "tag" column (e.g. the fold)')
    args = p.parse_args(argv)
    if not args.dubai and not (args.img_dir and args.ann_dir):
        p.error('give --dubai ROOT or both --img-dir and --ann-dir')
    for key, low in (('views', 1), ('size', 8), ('batch', 4)):
        if getattr(args, key) < low:
            p.error(f'--{key} must be at least {low}, got {getattr(args, key)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    from torchvision.transforms import RandomResizedCrop

    if args.dubai:
        pairs, read_mask = dubai_pairs(args.dubai), read_dubai_mask
    else:
        pairs = folder_pairs(args.img_dir, args.ann_dir)

        def read_mask(path):
            m = np.asarray(Image.open(path)).astype(np.int64)
            if args.reduce_zero_label:
                m = np.where(m == 0, IGNORE + 1, m) - 1
            return np.clip(m, 0, IGNORE).astype(np.uint8)

    check_pairs(pairs)
    cfg, model = load_grass(args.config, args.checkpoint)
    model.eval()
    pre = cfg.get('data_preprocessor') or dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    mean = torch.tensor(pre['mean']).view(1, 3, 1, 1)
    std = torch.tensor(pre['std']).view(1, 3, 1, 1)

    torch.manual_seed(args.seed)
    rrc = RandomResizedCrop(args.size, scale=(0.08, 1.0))
    views, labels = [], []
    for img_path, mask_path in pairs:
        img = torch.from_numpy(read_image(img_path))
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
    for norm in args.lam_norm or [model.lam_norm]:
        model.lam_norm = norm
        row = report(model, views, labels, args, len(pairs))
        if args.csv:
            append_row(args.csv, dict(tag=args.tag, lam_norm=norm, **row))


def append_row(path, row):
    import csv

    new = not osp.isfile(path)
    with open(path, 'a', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow({k: f'{v:.6f}' if isinstance(v, float) else v for k, v in row.items()})


def report(model, views, labels, args, n_images):
    """DAR boxes of every view with the model's current settings: purity, area, region-rule agreement."""
    from grass_mm.analysis.dar import box_area_fraction, box_rule_disagreement
    from grass_mm.selfsup.grass_functional import random_box_positions

    n = len(views) - len(views) % 2
    res = {k: [] for k in ('dar', 'random', 'view', 'area', 'other', 'first')}
    g = torch.Generator().manual_seed(args.seed)
    for s in range(0, n, args.batch):
        v, lab = views[s : s + args.batch], labels[s : s + args.batch]
        v, lab = v[: len(v) - len(v) % 2], lab[: len(lab) - len(lab) % 2]
        if len(v) < 4:
            continue
        _, lam, boxes = model.guided_crops(v, return_maps=True)
        rand_boxes = random_box_positions(boxes, (args.size, args.size), generator=g)
        res['dar'].append(box_purity(lab, boxes))
        res['random'].append(box_purity(lab, rand_boxes))
        res['view'].append(purity(lab))
        res['area'].append(box_area_fraction(boxes, (args.size, args.size)).float())
        other, first = box_rule_disagreement(lam, model.threshold)
        res['other'].append(torch.from_numpy(other).float())
        res['first'].append(torch.from_numpy(first).float())
    if not res['dar']:
        raise ValueError(f'{n} views from {n_images} images: a GraSS batch needs at least 4 (raise --views)')
    out = {k: torch.cat(v) for k, v in res.items()}
    ok = ~(out['dar'].isnan() | out['random'].isnan() | out['view'].isnan())
    print(
        f'{int(ok.sum())} views from {n_images} images, {args.size}px, lam_norm={model.lam_norm}, '
        f'TA={model.threshold}, checkpoint={args.checkpoint or "none (random init)"}'
    )
    for k in ('dar', 'random', 'view'):
        print(f'mean dominant-class fraction  {k:7s} {out[k][ok].mean():.4f}')
    print(f'mean DAR area (share of the view)     {out["area"].mean():.4f}')
    print(f"another region's box holds the max    {out['other'].mean():.4f}")
    print(f'box rule (first in order) differs     {out["first"].mean():.4f}')
    keys = dict(dar='dar', random='random', view='view')
    row = {k: float(out[v][ok].mean()) for k, v in keys.items()}
    row.update(views=int(ok.sum()), area=float(out['area'].mean()))
    row.update(other_box=float(out['other'].mean()), first_box=float(out['first'].mean()))
    return row


if __name__ == '__main__':
    run_main(main)
