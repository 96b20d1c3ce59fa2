#!/usr/bin/env python
"""Noisy positive pairs on VTS: sweep the per-image noise ``r_img`` and the share of noisy pairs,
pretrain each method on VTS clean/noisy pairs, evaluate with the FROZEN protocol (pretrained
encoder frozen, FCN head trained on top), write a CSV, a Markdown table and a PNG plot of mIoU vs
noise per method, with the random-init floor.

    python tools/experiments/noisy_pairs.py                       # CPU default: 25 steps, ~7 min on 2 cores
    python tools/experiments/noisy_pairs.py --r-img 0 0.25 0.5 0.75 1 --noisy-share 0.5 1   # the full grid
    python tools/experiments/noisy_pairs.py --device cuda --size 224 --base-channels 64 \\
        --pretrain-iters 2000 --eval-iters 2000 --batch 64 --out work_dirs/noisy_pairs_gpu

Gerard & Sullivan, "Contrastive pretraining for semantic segmentation is robust to noisy
positive pairs". A pair is (clean VTS image, its noisy twin whose ``r_img`` share of the cells
is re-filled with a third texture); with probability ``1 - noisy_share`` the pair is the classic
"same image twice" (``PairedViews.pair_prob = noisy_share``). A ``random-init`` row (no
pretraining, same frozen protocol) gives the floor.

The study runs on the project's one orchestration path, the one of the experiment runner
``tools/experiments/sweep.py``: every step is an ordinary config written to ``OUT/configs/`` and
run in a subprocess by ``tools/train.py``; the exact commands are appended to ``OUT/commands.sh``.

* pretraining: ``configs/noisy_pairs/<method>_resnet50_8xb32-coslr-350e_vts-pairs.py`` with this
  study's backbone (ResNet ``--depth`` at ``--base-channels`` width, zero-initialised residual
  branches for every method, as the random-init floor), VTS pairs of ``--size`` px at the run's
  ``r_img`` and ``pair_prob``, views differing by crop / flip (``--views vts``), SGD ``--lr`` with
  cosine decay, ``--pretrain-iters``;
* evaluation: ``configs/noisy_pairs/fcn_r50_frozen-4k_vts.py`` (``fcn_r50_finetune-4k_vts.py``
  with ``--finetune``) with the same backbone initialised from the pretraining checkpoint (or at
  random), ``--eval-iters`` iterations on ``--eval-train`` labelled VTS images, then mmseg's
  IoUMetric on ``--eval-test`` other VTS images (mIoU, aAcc, mAcc read from mmengine's
  ``scalars.json``; ``tools/test.py CONFIG CHECKPOINT`` reproduces it);
* report: ``noisy_pairs.csv`` (one row per run, with its difference to the floor),
  ``noisy_pairs.md`` (mIoU per method and noise, each method's clean-pair run marked against the
  random-init floor, and a warning line for a method whose clean pairs do not beat it by
  ``--floor-margin``: its encoder learned nothing the floor lacks) and ``noisy_pairs.png``.

A run whose result (or checkpoint) is already there is skipped, so an interrupted study resumes
when started again with the same budget flags; more ``--r-img`` / ``--noisy-share`` / ``--methods``
values extend a finished study.
"""

import argparse
import csv
import math
import os
import os.path as osp
import sys
import time
import warnings

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import sweep  # noqa: E402  (tools/experiments/sweep.py: the experiment runner's machinery)
from sweep import REPO, TOOLS, Steps, SweepError, finished_checkpoint, has_result, last_checkpoint  # noqa: E402

NP_CONFIGS = osp.join(REPO, 'configs', 'noisy_pairs')
METHODS = ('mocov2', 'densecl', 'pixel-pair', 'grass')
PRETRAIN_CONFIGS = {m: osp.join(NP_CONFIGS, f'{m}_resnet50_8xb32-coslr-350e_vts-pairs.py') for m in METHODS}
EVAL_CONFIGS = {
    'frozen': osp.join(NP_CONFIGS, 'fcn_r50_frozen-4k_vts.py'),
    'finetune': osp.join(NP_CONFIGS, 'fcn_r50_finetune-4k_vts.py'),
}
FLOOR = 'random-init'
#: flags that change what a finished run means: a resumed study must use the same ones
BUDGET_KEYS = (
    'size',
    'depth',
    'base_channels',
    'batch',
    'pretrain_iters',
    'lr',
    'warmup_share',
    'views',
    'eval_iters',
    'eval_batch',
    'eval_lr',
    'eval_train',
    'eval_test',
    'finetune',
    'device',
)
CSV_FIELDS = ['method', 'r_img', 'noisy_share', 'seed', 'pretrain_loss', 'mIoU', 'aAcc', 'mAcc', 'vs_floor']
CSV_FIELDS += ['beats_floor', 'config', 'work_dir']


# ----------------------------------------------------------------------------- arguments
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        '--out',
        '--work-dir',
        dest='out',
        default='work_dirs/noisy_pairs',
        help='output folder: new, empty, or an earlier study with the same budget flags (resumed)',
    )
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
    p.add_argument('--r-img', nargs='+', type=float, default=[0.0, 0.5, 1.0], help='noise levels in [0, 1]')
    p.add_argument(
        '--noisy-share',
        nargs='+',
        type=float,
        default=[1.0],
        help='shares in [0, 1] of pairs using the noisy twin (else the same image twice)',
    )
    p.add_argument('--no-baseline', action='store_true', help='skip the random-init row (the floor)')
    p.add_argument('--size', type=int, default=64, help='VTS image size (pretraining views and segmentation)')
    p.add_argument('--depth', type=int, default=18, choices=sorted(sweep.CHANNELS), help='ResNet depth')
    p.add_argument('--base-channels', type=int, default=16, help='ResNet width (64 = standard)')
    p.add_argument('--batch', type=int, default=32, help='pretraining pairs per step')
    p.add_argument('--pretrain-iters', type=int, default=200)
    p.add_argument('--lr', type=float, default=0.05, help='SGD learning rate of the pretraining (cosine decay)')
    p.add_argument(
        '--warmup-share', type=float, default=0.5, help='share of the GraSS iterations spent in the SimCLR warm-up'
    )
    p.add_argument(
        '--views',
        default='vts',
        choices=['vts', 'config'],
        help='vts: the pair views differ by crop / flip and the noisy twin only (no photometric jitter: VTS classes '
        'are grey textures told apart by local contrast, which colour jitter and blur teach the encoder to ignore); '
        'config: the photometric augmentation of the method config too',
    )
    p.add_argument('--eval-iters', type=int, default=200, help='FCN training iterations of the evaluation')
    p.add_argument('--eval-batch', type=int, default=8, help='FCN training images per step')
    p.add_argument('--eval-lr', type=float, default=0.05, help='SGD learning rate of the FCN training (poly decay)')
    p.add_argument('--eval-train', type=int, default=64, help='labelled VTS images for the FCN training')
    p.add_argument('--eval-test', type=int, default=128, help='VTS test images for IoUMetric')
    p.add_argument('--floor-margin', type=float, default=1.0, help='mIoU points above the floor that count as a gain')
    p.add_argument('--finetune', action='store_true', help='full fine-tuning instead of the frozen encoder')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'], help='cpu hides the GPUs from the runs')
    p.add_argument('--seed', type=int, default=0, help='seed of the pretraining, the FCN training and the data')
    p.add_argument('--workers', type=int, default=0, help='dataloader workers of each run')
    p.add_argument('--no-plot', action='store_true')
    args = p.parse_args(argv)
    for key in ('r_img', 'noisy_share'):
        vals = getattr(args, key)
        for v in vals:
            if not 0.0 <= v <= 1.0:
                p.error(f'--{key.replace("_", "-")} values must lie in [0, 1], got {v:g}')
        if len(set(vals)) != len(vals):
            p.error(f'--{key.replace("_", "-")} lists a value twice: {vals}')
    if len(set(args.methods)) != len(args.methods):
        p.error(f'--methods lists a value twice: {args.methods}')
    for key in ('size', 'base_channels', 'batch', 'pretrain_iters', 'eval_iters', 'eval_batch'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive, got {getattr(args, key)}')
    for key in ('eval_train', 'eval_test'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive, got {getattr(args, key)}')
    if args.batch < 2:
        p.error('--batch must be at least 2 (the contrastive losses need negatives)')
    if args.size < 32 or args.size % 32:
        p.error(f'--size must be a multiple of 32 (the ResNet stride), got {args.size}')
    if args.lr <= 0 or args.eval_lr <= 0:
        p.error(f'--lr and --eval-lr must be positive, got {args.lr:g} and {args.eval_lr:g}')
    if not 0.0 <= args.warmup_share < 1.0:
        p.error(f'--warmup-share must lie in [0, 1), got {args.warmup_share:g}')
    if args.floor_margin < 0:
        p.error(f'--floor-margin must be >= 0, got {args.floor_margin:g}')
    if args.workers < 0:
        p.error(f'--workers must be >= 0, got {args.workers}')
    return args


def budget_settings(args) -> dict:
    return {k: getattr(args, k) for k in BUDGET_KEYS}


# ----------------------------------------------------------------------------- configs
def _update_transforms(pipeline, type_name, **kwargs):
    """A copy of ``pipeline`` whose transforms of type ``type_name`` (at any depth) get ``kwargs``.

    Raises:
        SweepError: no transform of that type in the pipeline.
    """
    found = []

    def fix(t):
        if isinstance(t, dict):
            t = {k: fix(v) for k, v in t.items()}
            if t.get('type') == type_name:
                t.update(kwargs)
                found.append(t)
            return t
        if isinstance(t, (list, tuple)):
            return [fix(v) for v in t]
        return t

    out = fix(pipeline)
    if not found:
        raise SweepError(f'the pipeline has no {type_name} transform to set {sorted(kwargs)} on')
    return out


def feat_channels(args) -> int:
    """Channels of the last ResNet stage (stride 32 in pretraining, 8 in the dilated FCN backbone)."""
    return args.base_channels * 8 * (4 if args.depth >= 50 else 1)


def _backbone(args) -> dict:
    """The backbone keys every pretraining and the evaluation share: same architecture, same initialisation
    (zero-initialised residual branches, mmseg's default, so the random-init floor is the pretraining's start)."""
    return dict(
        depth=args.depth, stem_channels=args.base_channels, base_channels=args.base_channels, zero_init_residual=True
    )


def pretrain_config(method, args, r_img, share):
    """``configs/noisy_pairs/<method>_..._vts-pairs.py`` with this study's backbone, pairs and budget."""
    from mmengine.config import ConfigDict

    cfg = sweep.load_config(PRETRAIN_CONFIGS[method])
    n, ch = args.pretrain_iters, feat_channels(args)
    proj = 64  # projection / queue feature size
    cfg.model.backbone.update(_backbone(args), norm_cfg=dict(type='BN'))
    cfg.model.neck.update(in_channels=ch, hid_channels=2 * ch, out_channels=proj)
    if cfg.model.type in ('MoCo', 'DenseCL'):  # a queue of a few batches: the queue has to fill during the run
        cfg.model.update(queue_len=16 * args.batch, feat_dim=proj, momentum=0.01)
    if cfg.model.type == 'GraSS' and args.size < 128:  # stage 4 would give a 2x2 LAM at this view size
        cfg.model.gs_stage = -2
    ds = cfg.train_dataloader.dataset
    ds.update(num_samples=max(args.batch * 4, min(args.batch * n, 4000)), seed=args.seed, r_img=r_img, size=args.size)
    views = dict(pair_prob=share) if args.views == 'config' else dict(pair_prob=share, photometric=[])
    pipeline = _update_transforms(ds.pipeline, 'PairedViews', **views)
    ds.pipeline = _update_transforms(pipeline, 'RandomResizedCrop', scale=args.size)
    cfg.train_dataloader.update(
        batch_size=args.batch,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
    )
    cfg.optim_wrapper = ConfigDict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=args.lr, momentum=0.9, weight_decay=1e-4)
    )
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=n, by_epoch=False, begin=0, end=n)]
    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=n)
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.log_processor = ConfigDict(by_epoch=False)
    cfg.randomness = ConfigDict(seed=args.seed)
    warmup = int(round(args.warmup_share * n))
    cfg.custom_hooks = [
        dict(type='GraSSWarmupHook', warmup_iters=warmup) if h['type'] == 'GraSSWarmupHook' else h
        for h in cfg.get('custom_hooks', [])
    ]
    cfg.grass_mm_meta = dict(method=method, dataset='VTS pairs', r_img=r_img, noisy_share=share, seed=args.seed)
    return cfg


def eval_config(method, args, ckpt=None, r_img=None, share=None):
    """The frozen-encoder FCN protocol (``--finetune``: full fine-tuning) on VTS, from ``ckpt`` (None: random)."""
    from mmengine.config import ConfigDict

    protocol = 'finetune' if args.finetune else 'frozen'
    cfg = sweep.load_config(EVAL_CONFIGS[protocol])
    n, ch, size = args.eval_iters, feat_channels(args), (args.size, args.size)
    cfg.model.backbone.update(_backbone(args))
    cfg.model.backbone.init_cfg = None if ckpt is None else dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    cfg.model.data_preprocessor.size = size
    cfg.model.decode_head.update(in_channels=ch, channels=max(16, ch // 2))
    data = dict(size=args.size)
    cfg.train_dataloader.update(
        batch_size=args.eval_batch, num_workers=args.workers, persistent_workers=args.workers > 0
    )
    cfg.train_dataloader.dataset.update(data, num_samples=args.eval_train, seed=args.seed + 1000)
    cfg.val_dataloader.update(batch_size=8, num_workers=args.workers, persistent_workers=args.workers > 0)
    cfg.val_dataloader.dataset.update(data, num_samples=args.eval_test, seed=args.seed + 2000)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.optim_wrapper.optimizer.lr = args.eval_lr
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=n, by_epoch=False)]
    cfg.train_cfg.update(max_iters=n, val_interval=n)
    cfg.default_hooks.checkpoint.update(interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.randomness = ConfigDict(seed=args.seed)
    cfg.grass_mm_meta = dict(
        method=method, dataset='VTS', protocol=protocol, r_img=r_img, noisy_share=share, seed=args.seed
    )
    return cfg


def check_backbones(args, methods) -> None:
    """Every pretraining backbone provides every key of the evaluation backbone (before any run)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRE_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    import grass_mm  # noqa: F401

    init_default_scope('mmseg')
    seg_keys = set(SEG_MODELS.build(eval_config(FLOOR, args).model.backbone).state_dict())
    for method in methods:
        pre_keys = set(PRE_MODELS.build(pretrain_config(method, args, 0.0, 1.0).model.backbone).state_dict())
        missing = sorted(seg_keys - pre_keys)
        if missing:
            raise SweepError(
                f'{PRETRAIN_CONFIGS[method]}: its backbone lacks {len(missing)} key(s) of the evaluation '
                f'backbone, e.g. {missing[:3]}'
            )


# ----------------------------------------------------------------------------- running
def run_name(method, r_img=None, share=None, seed=0):
    if method == FLOOR:
        return f'{FLOOR}/seed{seed}'
    return f'{method}/rimg{r_img:g}_share{share:g}/seed{seed}'


def plan(args):
    """``[(method, r_img, share)]`` in run order; the floor first (r_img, share None)."""
    runs = [] if args.no_baseline else [(FLOOR, None, None)]
    return runs + [(m, r, s) for m in args.methods for s in args.noisy_share for r in args.r_img]


def pretrain_loss(work_dir):
    """Mean of the last logged pretraining losses (up to 5 log lines), or NaN."""
    import glob
    import json

    losses = []
    for scalars in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(scalars) as f:
            losses += [json.loads(line)['loss'] for line in f if '"loss"' in line]
    return float(sum(losses[-5:]) / len(losses[-5:])) if losses else float('nan')


def run_study(args, out):
    """Run (or resume) every step; returns one record per evaluated run."""
    from grass_mm.analysis import read_metrics

    cfg_dir = osp.join(out, 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    protocol = 'finetune' if args.finetune else 'frozen'
    runs = plan(args)
    n_pre = sum(m != FLOOR for m, _, _ in runs)
    steps = Steps(out, args.device, total=n_pre + len(runs))
    kinds = [k for m, _, _ in runs for k in (['eval'] if m == FLOOR else ['pretrain', 'eval'])]
    train = [sys.executable, osp.join(TOOLS, 'train.py')]
    records = []
    for method, r_img, share in runs:
        rn = run_name(method, r_img, share, args.seed)
        what = FLOOR if method == FLOOR else f'{method}, r_img {r_img:g}, noisy share {share:g}'
        ckpt, loss = None, float('nan')
        if method != FLOOR:
            wd = osp.join(out, 'pretrain', rn)
            path = osp.join(cfg_dir, 'pretrain_' + rn.replace('/', '_') + '.py')
            pretrain_config(method, args, r_img, share).dump(path)
            ckpt = finished_checkpoint(wd, args.pretrain_iters)
            title = f'pretraining {what} ({args.pretrain_iters} iterations, seed {args.seed})'
            if ckpt:
                steps.skip(title)
            else:
                log = osp.join(wd, 'stdout.log')
                steps.run(title, train + [path, '--work-dir', wd], log, 'pretrain', kinds[steps.done + 1 :])
                ckpt = last_checkpoint(wd)
            loss = pretrain_loss(wd)
        wd = osp.join(out, protocol, rn)
        path = osp.join(cfg_dir, f'fcn-{protocol}_' + rn.replace('/', '_') + '.py')
        eval_config(method, args, ckpt, r_img, share).dump(path)
        title = f'FCN, {protocol} encoder ({what}, {args.eval_iters} iterations, then IoUMetric)'
        if has_result(wd, args.eval_iters):
            steps.skip(title)
        else:
            log = osp.join(wd, 'stdout.log')
            steps.run(title, train + [path, '--work-dir', wd], log, 'eval', kinds[steps.done + 1 :])
        metrics, _, _ = read_metrics(wd)
        records.append(
            dict(
                method=method,
                r_img=r_img,
                noisy_share=share,
                seed=args.seed,
                pretrain_loss=loss,
                mIoU=metrics['mIoU'],
                aAcc=metrics['OA'],
                mAcc=metrics['mAcc'],
                config=path,
                work_dir=wd,
            )
        )
    return records


# ----------------------------------------------------------------------------- report
def mark_floor(records, margin=1.0):
    """Add ``vs_floor`` (mIoU - floor) and ``beats_floor`` (mIoU > floor + margin) to each record (in place).

    Returns:
        float: the floor's mIoU, or None without a random-init record (the marks are then empty).
    """
    floors = [r['mIoU'] for r in records if r['method'] == FLOOR]
    floor = floors[0] if floors else None
    for r in records:
        if floor is None or r['method'] == FLOOR:
            r['vs_floor'], r['beats_floor'] = '', ''
        else:
            r['vs_floor'] = round(r['mIoU'] - floor, 2)
            r['beats_floor'] = 'yes' if r['mIoU'] > floor + margin else 'no'
    return floor


def clean_pair_warnings(records, margin=1.0):
    """One line per method whose clean-pair run (r_img 0) does not beat the floor by ``margin``."""
    floors = [r['mIoU'] for r in records if r['method'] == FLOOR]
    if not floors:
        return []
    out = []
    for r in records:
        if r['method'] != FLOOR and r['r_img'] == 0 and r['mIoU'] <= floors[0] + margin:
            out.append(
                f'warning: {r["method"]} (noisy share {r["noisy_share"]:g}) with clean pairs: mIoU {r["mIoU"]:.2f} '
                f'does not beat the random-init floor {floors[0]:.2f} by {margin:g}: learned nothing at this '
                f'budget; raise --pretrain-iters'
            )
    return out


def write_csv(records, path):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction='ignore')
        w.writeheader()
        for r in records:
            row = dict(r)
            for k in ('r_img', 'noisy_share'):
                row[k] = '' if r[k] is None else r[k]
            for k in ('pretrain_loss', 'mIoU', 'aAcc', 'mAcc'):
                row[k] = '' if not math.isfinite(r[k]) else round(r[k], 4 if k == 'pretrain_loss' else 2)
            w.writerow(row)


def markdown(records, margin=1.0, title='') -> str:
    """mIoU per (method, noisy share) x r_img; the clean-pair run (r_img 0) marked against the floor."""
    floor = [r['mIoU'] for r in records if r['method'] == FLOOR]
    levels = sorted({r['r_img'] for r in records if r['method'] != FLOOR})
    keys = list(dict.fromkeys((r['method'], r['noisy_share']) for r in records if r['method'] != FLOOR))
    cells = {(r['method'], r['noisy_share'], r['r_img']): r['mIoU'] for r in records}
    md = f'### {title}\n\n' if title else ''
    md += 'mIoU (%, IoUMetric) per method and noise level `r_img`'
    md += f'; random-init floor **{floor[0]:.2f}**.\n\n' if floor else ' (no random-init floor run).\n\n'
    clean = floor and 0.0 in levels
    md += '| method | noisy share | ' + ' | '.join(f'r_img {v:g}' for v in levels)
    md += ' | clean pairs vs floor |\n' if clean else ' |\n'
    md += '|---|---|' + '---|' * (len(levels) + bool(clean)) + '\n'
    for m, s in keys:
        vals = [cells.get((m, s, v)) for v in levels]
        md += f'| {m} | {s:g} | ' + ' | '.join('-' if v is None else f'{v:.2f}' for v in vals)
        if clean:
            v = cells.get((m, s, 0.0))
            if v is None:
                md += ' | - |'
            else:
                d = v - floor[0]
                md += f' | {d:+.2f} ({"beats the floor" if d > margin else "does NOT beat the floor"}) |'
        md += '\n'
    if floor:
        md += (
            f'| {FLOOR} (floor) | - | '
            + ' | '.join(f'{floor[0]:.2f}' for _ in levels)
            + (' | - |\n' if clean else ' |\n')
        )
    if clean:
        md += f'\n"beats the floor": more than {margin:g} mIoU point(s) above the random-init encoder.\n'
    return md


def plot(records, path, title='', protocol='frozen encoder'):
    """mIoU vs r_img, one line per (method, noisy share); the random-init floor as a dashed line."""
    import textwrap

    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    keys = list(dict.fromkeys((r['method'], r['noisy_share']) for r in records if r['method'] != FLOOR))
    methods = list(dict.fromkeys(m for m, _ in keys))
    shares = sorted({s for _, s in keys}, reverse=True)
    for m, s in keys:  # one colour per method, one line style per noisy share
        pts = sorted((r['r_img'], r['mIoU']) for r in records if (r['method'], r['noisy_share']) == (m, s))
        style = dict(color=f'C{methods.index(m)}', linestyle=('-', ':', '-.')[shares.index(s) % 3])
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=f'{m} (noisy share {s:g})', **style)
    for r in records:
        if r['method'] == FLOOR:
            ax.axhline(r['mIoU'], color='grey', linestyle='--', label=f'random init ({r["mIoU"]:.1f})')
    ax.set_xlabel('r_img (share of re-filled cells in the noisy twin)')
    ax.set_ylabel(f'mIoU (%), {protocol} + FCN')
    ax.set_title(textwrap.fill(title or 'VTS: segmentation vs positive-pair noise', 80), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    if args.device == 'cuda':
        import torch

        if not torch.cuda.is_available():
            raise SweepError('--device cuda, but torch sees no GPU')
    sys.path.insert(0, REPO)
    out = osp.abspath(args.out)
    existed = osp.isdir(out)
    resumed = sweep.prepare_work_dir(out, budget_settings(args))
    try:
        check_backbones(args, args.methods)
    except SweepError:
        if not resumed:
            sweep.undo_work_dir(out, existed)
        raise
    if resumed:
        print(f'[noisy_pairs] resuming {out}: finished runs are skipped', flush=True)
    t0 = time.time()
    records = run_study(args, out)
    margin = args.floor_margin
    mark_floor(records, margin)
    protocol = 'full fine-tuning' if args.finetune else 'frozen encoder'
    title = (
        f'VTS noisy pairs, FCN-R{args.depth} (width {args.base_channels}, {protocol}), {args.size} px, '
        f'{args.pretrain_iters} + {args.eval_iters} iterations, seed {args.seed}'
    )
    md = markdown(records, margin, title)
    below = clean_pair_warnings(records, margin)
    if below:
        md += '\n' + '\n'.join(f'- {w}' for w in below) + '\n'
    csv_path, md_path, png_path = (osp.join(out, f'noisy_pairs.{e}') for e in ('csv', 'md', 'png'))
    write_csv(records, csv_path)
    with open(md_path, 'w') as f:
        f.write(md)
    if not args.no_plot:
        plot(records, png_path, title, protocol)
    print('\n' + md)
    for w in below:
        print(w, flush=True)
    print(
        f'[noisy_pairs] {len(records)} evaluated runs in {time.time() - t0:.0f} s -> {csv_path}, {md_path}'
        + ('' if args.no_plot else f', {png_path}')
        + '; configs/ and commands.sh beside them'
    )
    return records


if __name__ == '__main__':
    try:
        main()
    except SweepError as err:
        sys.exit(f'error: {err}')
