"""Pictures of GraSS gradient-guided sampling: view, LAM heat map, DAR box, DAR crop.

    python tools/visualize_lam.py CONFIG CHECKPOINT IMAGES... --out DIR [--size 224]

IMAGES are files, folders or glob patterns (at least 2 images in all: the loss needs
negatives). Each image gives two views (the resized image and its horizontal flip) so that
every view has its positive; all views form one batch. One PNG per image, 4 panels:
view | LAM overlay | DAR box | crop. CHECKPOINT may be ``none`` (random weights). ``--grid FILE``
also writes all images as rows of one figure.
"""

import argparse
import glob
import os
import os.path as osp

from grass_mm.utils.cli import fail, load_grass, run_main  # first: filters the third-party warnings

EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


def collect(items):
    out = []
    for it in items:
        if osp.isdir(it):
            out += sorted(p for p in glob.glob(osp.join(it, '**', '*'), recursive=True) if p.lower().endswith(EXTS))
        elif osp.isfile(it):
            out.append(it)
        else:
            out += sorted(glob.glob(it))
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint', help="checkpoint file, or 'none'")
    p.add_argument('images', nargs='+')
    p.add_argument('--out', required=True)
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--device', default='cpu')
    p.add_argument('--grid', help='also write one PNG with a row per image')
    p.add_argument('--max-images', type=int, default=None, help='use only the first N images')
    p.add_argument('--overwrite', action='store_true', help='replace existing pictures of the same names')
    args = p.parse_args(argv)
    if args.size < 8:
        p.error(f'--size must be at least 8, got {args.size}')
    if args.max_images is not None and args.max_images < 2:
        p.error(f'--max-images must be at least 2 (the loss needs negatives), got {args.max_images}')
    return args


def read_images(paths, size):
    """Each image as an (S, S, 3) uint8 RGB array; raises ValueError naming an unreadable file."""
    import numpy as np
    from PIL import Image

    imgs = []
    for pth in paths:
        try:
            with Image.open(pth) as img:
                imgs.append(np.asarray(img.convert('RGB').resize((size, size), Image.BILINEAR)))
        except (OSError, ValueError) as err:
            raise ValueError(f'image {pth} cannot be read: {err}') from None
    return imgs


def output_paths(args, paths):
    """``(picture per image, grid or None)``, checked: no two images share a picture, and nothing
    that exists is replaced without ``--overwrite``."""
    from grass_mm.runtime.outputs import check_output_files

    if osp.exists(args.out) and not osp.isdir(args.out):
        raise ValueError(f'--out {args.out} is a file, not a folder')
    pictures = [osp.join(args.out, osp.splitext(osp.basename(pth))[0] + '_lam.png') for pth in paths]
    seen = {}
    for pth, pic in zip(paths, pictures, strict=True):
        if pic in seen:
            raise ValueError(f'images {seen[pic]} and {pth} would both be drawn to {pic}; rename one')
        seen[pic] = pth
    check_output_files(pictures + ([args.grid] if args.grid else []), args.overwrite)
    return pictures, args.grid


def main(argv=None):
    args = parse_args(argv)
    if args.device.startswith('cuda'):
        import torch

        if not torch.cuda.is_available():
            fail(f'--device {args.device}, but torch sees no GPU')
    paths = collect(args.images)[: args.max_images]
    if len(paths) < 2:
        fail(f'IMAGES must give at least 2 images (negatives), got {len(paths)}: {" ".join(args.images)}')
    pictures, grid = output_paths(args, paths)
    imgs = read_images(paths, args.size)
    cfg, model = load_grass(args.config, args.checkpoint)
    draw_all(args, cfg, model, paths, imgs, pictures, grid)


def draw_all(args, cfg, model, paths, imgs, pictures, grid):
    """Compute the LAMs, DAR boxes and crops of all views and write the pictures (atomically)."""
    import matplotlib
    import numpy as np
    import torch

    from grass_mm.runtime.outputs import atomic_output

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    model.to(args.device).eval()
    pre = cfg.get('data_preprocessor', None) or dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    mean = torch.tensor(pre['mean']).view(1, 3, 1, 1)
    std = torch.tensor(pre['std']).view(1, 3, 1, 1)

    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float()
    views = torch.stack([x, x.flip(-1)], 1).flatten(0, 1)  # (2B, 3, S, S), twins adjacent
    norm = ((views - mean) / std).to(args.device)
    crops, lam, boxes = model.guided_crops(norm, return_maps=True)
    crops = (crops.cpu() * std + mean).clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    lam, boxes = lam.cpu().numpy(), boxes.cpu().numpy()
    os.makedirs(args.out, exist_ok=True)

    def draw(ax, i):
        v = 2 * i  # the unflipped view
        x0, y0, x1, y1 = boxes[v]
        ax[0].imshow(imgs[i])
        ax[0].set_title('view')
        ax[1].imshow(imgs[i])
        # 'relu' / 'minmax' maps lie in [0, 1]; an 'original' (LAM / max) map may hold
        # negative values, or be flipped to >= 1, so it is shown over its own range
        lo, hi = (0, 1) if model.lam_norm != 'original' else (lam[v].min(), lam[v].max())
        ax[1].imshow(lam[v], cmap='jet', alpha=0.5, vmin=lo, vmax=hi)
        ax[1].set_title('LAM')
        ax[2].imshow(imgs[i])
        ax[2].add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, color='red', lw=2))
        ax[2].set_title(f'DAR (TA={model.threshold})')
        ax[3].imshow(crops[v])
        ax[3].set_title('crop')
        for a in ax:
            a.axis('off')

    for i, out in enumerate(pictures):
        fig, ax = plt.subplots(1, 4, figsize=(12, 3.2))
        draw(ax, i)
        fig.tight_layout()
        with atomic_output(out) as tmp:
            fig.savefig(tmp, dpi=80)
        plt.close(fig)
        print(out)
    if grid:
        fig, ax = plt.subplots(len(paths), 4, figsize=(12, 3.2 * len(paths)), squeeze=False)
        for i in range(len(paths)):
            draw(ax[i], i)
        fig.suptitle(f'Loss Attention Maps and DARs ({osp.basename(args.checkpoint)})')
        fig.tight_layout()
        with atomic_output(grid) as tmp:
            fig.savefig(tmp, dpi=80)
        plt.close(fig)
        print(grid)


if __name__ == '__main__':
    run_main(main)
