#!/usr/bin/env python
"""Noisy positive pairs on VTS: sweep the per-image noise ``r_img`` and the share of noisy pairs,
pretrain each method on VTS clean/noisy pairs, evaluate with the FROZEN protocol (pretrained
encoder frozen, FCN head trained on top), write a CSV and a PNG plot of mIoU vs noise per method.

Gerard & Sullivan, "Contrastive pretraining for semantic segmentation is robust to noisy
positive pairs". A pair is (clean VTS image, its noisy twin whose ``r_img`` share of the cells
is re-filled with a third texture); with probability ``1 - noisy_share`` the pair is the classic
"same image twice" (``PairedViews.pair_prob = noisy_share``). A "random-init" row (no
pretraining, same frozen protocol) gives the floor.

Small CPU default (ResNet-18 at quarter width, 64 px, 20 + 20 iterations, batch 8, 41 runs);
scale up by flags on a GPU, e.g.::

    python tools/experiments/noisy_pairs.py --out work_dirs/noisy_pairs                  # CPU, small
    python tools/experiments/noisy_pairs.py --device cuda --size 224 --base-channels 64 \\
        --pretrain-iters 2000 --eval-iters 2000 --batch 64 --out work_dirs/noisy_pairs_gpu
"""

import argparse
import csv
import os
import os.path as osp
import sys
import time

import numpy as np
import torch

METHODS = ('mocov2', 'densecl', 'pixel-pair', 'grass')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument('--out', default='work_dirs/noisy_pairs', help='output folder (CSV, PNG)')
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
    p.add_argument('--r-img', nargs='+', type=float, default=[0.0, 0.25, 0.5, 0.75, 1.0])
    p.add_argument(
        '--noisy-share',
        nargs='+',
        type=float,
        default=[0.5, 1.0],
        help='share of pairs using the noisy twin (else same image twice)',
    )
    p.add_argument('--no-baseline', action='store_true', help='skip the random-init row')
    p.add_argument('--size', type=int, default=64, help='VTS image size')
    p.add_argument('--depth', type=int, default=18)
    p.add_argument('--base-channels', type=int, default=16, help='ResNet width (64 = standard)')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--pretrain-iters', type=int, default=20)
    p.add_argument('--eval-iters', type=int, default=20, help='FCN head training iterations')
    p.add_argument('--eval-train', type=int, default=32, help='labelled VTS images for the head')
    p.add_argument('--eval-test', type=int, default=16, help='VTS test images for mIoU')
    p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--finetune', action='store_true', help='full fine-tuning instead of frozen')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-plot', action='store_true')
    args = p.parse_args(argv)
    for key in ('r_img', 'noisy_share'):
        for v in getattr(args, key):
            if not 0.0 <= v <= 1.0:
                p.error(f'--{key.replace("_", "-")} values must lie in [0, 1], got {v}')
    for key in ('size', 'batch', 'pretrain_iters', 'eval_iters', 'eval_train', 'eval_test'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive')
    return args


# ----------------------------------------------------------------------------- models
def pretrain_model_cfg(method, args):
    ch = args.base_channels * 8 * (4 if args.depth >= 50 else 1)
    backbone = dict(
        type='ResNet',
        depth=args.depth,
        stem_channels=args.base_channels,
        base_channels=args.base_channels,
        out_indices=(3,),
        norm_cfg=dict(type='BN'),
    )
    head = dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)
    dense_neck = dict(type='DenseCLNeck', in_channels=ch, hid_channels=2 * ch, out_channels=64)
    queue = 64 * args.batch
    cfg = {
        'mocov2': dict(
            type='MoCo',
            queue_len=queue,
            feat_dim=64,
            momentum=0.01,
            backbone=backbone,
            head=head,
            neck=dict(type='MoCoV2Neck', in_channels=ch, hid_channels=2 * ch, out_channels=64, with_avg_pool=True),
        ),
        'densecl': dict(
            type='DenseCL',
            queue_len=queue,
            feat_dim=64,
            momentum=0.01,
            loss_lambda=0.5,
            backbone=backbone,
            neck=dense_neck,
            head=head,
        ),
        'pixel-pair': dict(
            type='PixelPairContrast', backbone=backbone, neck=dense_neck, temperature=0.2, global_weight=0.5
        ),
        'grass': dict(
            type='GraSS',
            backbone=backbone,
            head=dict(head, temperature=0.5),
            neck=dict(
                type='NonLinearNeck',
                in_channels=ch,
                hid_channels=2 * ch,
                out_channels=64,
                num_layers=2,
                with_avg_pool=True,
            ),
        ),
    }[method]
    cfg['data_preprocessor'] = dict(
        type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True
    )
    return cfg


def seg_model_cfg(args):
    ch = args.base_channels * 8 * (4 if args.depth >= 50 else 1)
    frozen = dict(frozen_stages=-1, norm_eval=False) if args.finetune else dict(frozen_stages=4, norm_eval=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size=(args.size, args.size),
        ),
        backbone=dict(
            type='ResNet',
            depth=args.depth,
            stem_channels=args.base_channels,
            base_channels=args.base_channels,
            out_indices=(3,),
            style='pytorch',
            norm_cfg=dict(type='BN', requires_grad=True),
            init_cfg=None,
            **frozen,
        ),
        decode_head=dict(
            type='FCNHead',
            in_channels=ch,
            in_index=0,
            channels=64,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.0,
            num_classes=2,
            align_corners=False,
            norm_cfg=dict(type='BN', requires_grad=True),
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
        ),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'),
    )


# ----------------------------------------------------------------------------- data
def _loader(dataset, batch, shuffle, seed):
    from mmengine.dataset import default_collate, pseudo_collate
    from torch.utils.data import DataLoader

    g = torch.Generator().manual_seed(seed)
    collate = default_collate if 'PackInputs' in repr(dataset.pipeline) else pseudo_collate
    return DataLoader(
        dataset, batch_size=batch, shuffle=shuffle, generator=g, num_workers=0, collate_fn=collate, drop_last=shuffle
    )


def _forever(loader):
    while True:
        yield from loader


def pair_dataset(args, r_img, share, shared):
    from mmpretrain.registry import DATASETS

    pipeline = [
        dict(type='LoadImagePair'),
        dict(
            type='PairedViews',
            pair_prob=share,
            shared_geometry=shared,
            geometric=[
                dict(type='RandomResizedCrop', scale=args.size, crop_ratio_range=(0.3, 1.0)),
                dict(type='RandomFlip', prob=0.5),
                dict(type='RandomFlip', prob=0.5, direction='vertical'),
            ],
            photometric=[
                dict(
                    type='RandomApply',
                    prob=0.8,
                    transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0)],
                ),
                dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
            ],
        ),
        dict(type='PackInputs'),
    ]
    n = max(args.batch * args.pretrain_iters, 4 * args.batch)
    return DATASETS.build(
        dict(
            type='VTSPairDataset',
            num_samples=min(n, 2000),
            seed=args.seed,
            r_img=r_img,
            size=args.size,
            pipeline=pipeline,
        )
    )


def seg_dataset(args, n, seed, train):
    from mmseg.registry import DATASETS

    pipeline = [dict(type='LoadImageFromNDArray')]
    if train:
        pipeline.append(dict(type='RandomFlip', prob=0.5))
    pipeline.append(dict(type='PackSegInputs'))
    return DATASETS.build(dict(type='VTSSegDataset', num_samples=n, seed=seed, size=args.size, pipeline=pipeline))


# ----------------------------------------------------------------------------- steps
def pretrain(method, args, r_img, share, progress):
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model = MODELS.build(pretrain_model_cfg(method, args)).to(args.device)
    model.train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=args.lr, momentum=0.9, weight_decay=1e-4)))
    data = _forever(_loader(pair_dataset(args, r_img, share, shared=method != 'mocov2'), args.batch, True, args.seed))
    warmup = args.pretrain_iters // 2  # GraSS: SimCLR warm-up then gradient-guided sampling
    losses = []
    for it in range(args.pretrain_iters):
        if hasattr(model, 'set_gs'):
            model.set_gs(it >= warmup)
        log = model.train_step(next(data), optim)
        losses.append(float(sum(v for k, v in log.items() if 'loss' in k)))
        progress(f'pretrain {it + 1}/{args.pretrain_iters} loss {losses[-1]:.3f}')
    return model.backbone.state_dict(), float(np.mean(losses[-max(1, len(losses) // 5) :]))


def frozen_eval(backbone_state, args, progress):
    """Train the FCN head on a frozen (or, with --finetune, trainable) encoder; return mIoU (%)."""
    from mmengine.config import ConfigDict
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    torch.manual_seed(args.seed)
    model = MODELS.build(ConfigDict(seg_model_cfg(args)))
    model.init_weights()
    if backbone_state is not None:
        missing, unexpected = model.backbone.load_state_dict(backbone_state, strict=False)
        if missing or unexpected:
            raise RuntimeError(f'backbone transfer mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}')
    model.to(args.device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)))
    assert params, 'nothing to train'
    train = _forever(
        _loader(
            seg_dataset(args, args.eval_train, args.seed + 1000, True),
            min(args.batch, args.eval_train),
            True,
            args.seed,
        )
    )
    for it in range(args.eval_iters):
        model.train_step(next(train), optim)
        progress(f'FCN head {it + 1}/{args.eval_iters}')
    model.eval()
    conf = torch.zeros(2, 2, dtype=torch.long)
    with torch.no_grad():
        for batch in _loader(
            seg_dataset(args, args.eval_test, args.seed + 2000, False), min(args.batch, args.eval_test), False, 0
        ):
            for ds in model.test_step(batch):
                pred = ds.pred_sem_seg.data.reshape(-1).cpu()
                gt = ds.gt_sem_seg.data.reshape(-1).cpu().long()
                keep = gt < 2
                conf += torch.bincount(gt[keep] * 2 + pred[keep], minlength=4).reshape(2, 2)
    inter = conf.diag().double()
    union = conf.sum(0).double() + conf.sum(1).double() - inter
    return float((inter / union.clamp(min=1)).mean() * 100)


# ----------------------------------------------------------------------------- main
def plot(rows, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for key in sorted({(r['method'], r['noisy_share']) for r in rows if r['method'] != 'random-init'}):
        pts = sorted((r['r_img'], r['miou']) for r in rows if (r['method'], r['noisy_share']) == key)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=f'{key[0]} (noisy share {key[1]:g})')
    for r in rows:
        if r['method'] == 'random-init':
            ax.axhline(r['miou'], color='grey', linestyle='--', label='random init')
    ax.set_xlabel('r_img (share of re-filled cells in the noisy twin)')
    ax.set_ylabel('mIoU (%) frozen encoder + FCN')
    ax.set_title('VTS: segmentation vs positive-pair noise')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import logging

    from mmengine.logging import MMLogger

    import grass_mm  # noqa: F401  (registers LoadImagePair, PairedViews, PixelPairContrast, VTS)

    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)  # no init_weights chatter
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    methods = [m for m in args.methods if MODELS.get(pretrain_model_cfg(m, args)['type']) is not None]
    for m in set(args.methods) - set(methods):
        print(f'[noisy_pairs] skipping {m}: its algorithm is not registered', flush=True)
    runs = [(m, r, s) for m in methods for s in args.noisy_share for r in args.r_img]
    if not args.no_baseline:
        runs.insert(0, ('random-init', float('nan'), float('nan')))
    os.makedirs(args.out, exist_ok=True)
    csv_path, png_path = osp.join(args.out, 'noisy_pairs.csv'), osp.join(args.out, 'noisy_pairs.png')
    fields = ['method', 'r_img', 'noisy_share', 'pretrain_loss', 'miou', 'seconds']
    rows, t0 = [], time.time()
    with open(csv_path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for i, (method, r_img, share) in enumerate(runs):
            t_run = time.time()
            done = time.time() - t0
            eta = done / i * (len(runs) - i) if i else float('nan')

            def progress(msg, _i=i, _m=method, _r=r_img, _s=share, _eta=eta):
                sys.stdout.write(
                    f'\r[{_i + 1}/{len(runs)}] {_m} r_img={_r:g} share={_s:g} | {msg}'
                    f' | elapsed {time.time() - t0:.0f}s eta {_eta:.0f}s   '
                )
                sys.stdout.flush()

            if method == 'random-init':
                state, loss = None, float('nan')
            else:
                init_default_scope('mmpretrain')
                state, loss = pretrain(method, args, r_img, share, progress)
            init_default_scope('mmseg')
            miou = frozen_eval(state, args, progress)
            row = dict(
                method=method,
                r_img=r_img,
                noisy_share=share,
                pretrain_loss=round(loss, 4),
                miou=round(miou, 2),
                seconds=round(time.time() - t_run, 1),
            )
            rows.append(row)
            writer.writerow(row)
            f.flush()
            print(f'\n  -> mIoU {miou:.2f}%  (pretrain loss {loss:.3f})', flush=True)
    if not args.no_plot:
        plot(rows, png_path)
    print(
        f'[noisy_pairs] {len(rows)} runs in {time.time() - t0:.0f}s -> {csv_path}'
        + ('' if args.no_plot else f', {png_path}')
    )
    return rows


if __name__ == '__main__':
    main()
