#!/usr/bin/env python
"""Experiment runner: pretraining methods x label fractions x evaluation protocols x seeds.

    python tools/experiments/sweep.py                                   # demo Dubai data, CPU
    python tools/experiments/sweep.py --methods random-init SimCLR GraSS \\
        --fractions 0.1 1.0 --protocols frozen full --seeds 0 1 2 --pretrain-iters 600 \\
        --work-dir work_dirs/sweep_dubai
    python tools/experiments/sweep.py --pretrain-config MoCoV2=configs/quickstart/mocov2_r18_quickstart.py \\
        --methods random-init SimCLR MoCoV2 GraSS --dataset-config configs/_base_/datasets/potsdam.py

Every step is an ordinary config, written to ``WORK_DIR/configs/`` and run in a subprocess by
``tools/train.py`` / ``tools/test.py``; the exact commands are appended to ``WORK_DIR/commands.sh``.

* pretraining: one run per (method, seed) on the training images of the dataset (never a
  validation image), same backbone, budget, batch and seed for every method;
* fine-tuning: FCN or UPerNet per (method, protocol, label fraction, seed); ``frozen`` keeps the
  pretrained encoder fixed (all stages and BN statistics), ``full`` trains the whole network.
  A fraction below 1 wraps the training set in ``LabelSubsetDataset`` with the run's seed, so all
  methods of one seed see the same labelled images;
* evaluation: mmseg's IoUMetric on the validation split at the end of each fine-tuning (the
  config's ``val_evaluator``; ``tools/test.py CONFIG CHECKPOINT`` reproduces it);
* report: ``results.csv`` (one row per run), ``results.md`` (mean ± 95% t-interval over seeds,
  and the paired differences of each pretraining vs random-init and GraSS vs SimCLR) and
  ``results.png`` (mIoU vs label fraction, one line per method, error bars).

A run whose result (or checkpoint) is already there is skipped, so an interrupted sweep resumes
when started again with the same arguments.
"""

import argparse
import copy
import functools
import glob
import json
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from typing import Optional

# the deprecation noise that importing mmengine/mmcv prints (pkg_resources): filtered in the tool, not the library
warnings.filterwarnings('ignore', message=r'pkg_resources is deprecated', category=UserWarning)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
QS_CONFIGS = osp.join(REPO, 'configs', 'quickstart')
DEMO_DATA = osp.join(REPO, 'grass_mm', 'demo', 'dubai_aerial')
MARKER = '.grass_mm_sweep'
BUILTIN_PRETRAIN = {
    'SimCLR': osp.join(QS_CONFIGS, 'simclr_r18_quickstart_vts.py'),
    'GraSS': osp.join(QS_CONFIGS, 'grass_r18_quickstart_vts.py'),
}
#: the random-box control: the GraSS config with ``box_mode='random'``, resumed from that GraSS run's warm-up
#: checkpoint (same warm-up, same number and sizes of crops as the DARs, random positions)
RANDOM_BOX_CONTROLS = {'GraSS-random-boxes': 'GraSS'}
#: the positive control: the encoder of the random-init, full fine-tuning, 100%-label run of the same fold and
#: seed (trained with labels on the fold's training images; run first if the plan lacks it), then evaluated like a
#: pretraining
SUPERVISED = 'supervised'
#: linear: a 1x1 conv on the frozen encoder's last features (BN frozen, no auxiliary head); frozen: the FCN/UPerNet
#: head on the frozen encoder; full: the whole network
PROTOCOLS = ('linear', 'frozen', 'full')
#: the linear probe's learning rate, as a multiple of --finetune-lr (a single layer takes a larger step)
LINEAR_LR_MULT = 10.0
#: cross-validation schemes: none (the data's own train/val split) or tiles (leave one tile out)
FOLD_SCHEMES = ('none', 'tiles')
CHANNELS = {18: [64, 128, 256, 512], 34: [64, 128, 256, 512], 50: [256, 512, 1024, 2048]}
DATASET_KEYS = (
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
    'tta_pipeline',  # tools/test.py --tta
)
#: arguments that change what a finished run means: a resumed sweep must use the same ones
BUDGET_KEYS = (
    'data',
    'dataset_config',
    'depth',
    'decoder',
    'pretrain_iters',
    'warmup_share',
    'finetune_iters',
    'batch',
    'seg_batch',
    'size',
    'view_size',
    'pretrain_config',
    'finetune_optimizer',
    'finetune_lr',
    'backbone_lr_mult',
    'norm_eval',
    'probe_iters',
    'reestimate_bn',
    'device',
    'reuse_pretraining',
    'seg_scale',
    'folds',
)
#: values of settings added later, for sweep folders written before they existed
NEW_SETTING_DEFAULTS = {'probe_iters': 0, 'finetune_optimizer': 'sgd', 'reestimate_bn': False, 'folds': 'none'}
#: fine-tuning optimizers: the fine-tuning config's own (mmseg's SGD, momentum 0.9, weight decay 5e-4; None), and
#: the GraSS lab's Adam (no weight decay); with their default learning rates
FINETUNE_OPTIMIZERS = {'sgd': None, 'adam': dict(type='Adam', weight_decay=0.0)}
FINETUNE_DEFAULT_LR = {'sgd': 0.01, 'adam': 1e-4}
#: --reestimate-bn: BN statistics averaged over this many training batches (random crops of the labelled images)
REESTIMATE_BATCHES = 50
#: the arguments that make a pretraining: another sweep's checkpoints are reused only when these match
PRETRAIN_KEYS = (
    'data',
    'dataset_config',
    'depth',
    'pretrain_iters',
    'warmup_share',
    'batch',
    'size',
    'view_size',
    'pretrain_config',
)


@functools.lru_cache(maxsize=None)
def _parsed_config(path):
    from mmengine.config import Config

    return Config.fromfile(path)


def load_config(path):
    """A fresh copy of the config file ``path`` (each file is parsed once: its ``mmseg::`` bases are slow to read)."""
    return copy.deepcopy(_parsed_config(osp.abspath(path)))


class SweepError(RuntimeError):
    """A user-fixable problem (bad flag, data, failed step); printed as one ``error:`` line."""


# ----------------------------------------------------------------------------- arguments
def add_budget_args(p: argparse.ArgumentParser, pretrain_iters=200, finetune_iters=150) -> None:
    """Data, model and budget flags shared by the sweep and tools/quickstart.py."""
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        '--data',
        help='Dubai aerial data: raw Kaggle folder (tile_N/...) or converted root '
        '(default: the CC0 tiles shipped in grass_mm/demo/dubai_aerial)',
    )
    src.add_argument('--dataset-config', help='an mmseg dataset config (train/val dataloaders, evaluator)')
    p.add_argument(
        '--device',
        default='cpu',
        choices=['cpu', 'cuda'],
        help='cpu hides the GPUs from the runs; cuda needs a visible GPU',
    )
    p.add_argument('--depth', type=int, default=18, choices=sorted(CHANNELS), help='ResNet depth')
    p.add_argument('--decoder', default='fcn', choices=['fcn', 'upernet'])
    p.add_argument('--pretrain-iters', type=int, default=pretrain_iters, help='iterations of each pretraining')
    p.add_argument(
        '--warmup-share', type=float, default=0.5, help='share of the GraSS iterations spent in the SimCLR warm-up'
    )
    p.add_argument('--finetune-iters', type=int, default=finetune_iters, help='iterations of each fine-tuning')
    p.add_argument(
        '--finetune-optimizer',
        default='sgd',
        choices=sorted(FINETUNE_OPTIMIZERS),
        help='optimizer of every fine-tuning, random-init included: sgd (momentum 0.9, weight decay 5e-4, as '
        "mmseg's schedules) or adam (the GraSS lab's, no weight decay); poly decay either way",
    )
    p.add_argument(
        '--finetune-lr', type=float, default=None, help='fine-tuning learning rate (default: sgd 0.01, adam 1e-4)'
    )
    p.add_argument(
        '--backbone-lr-mult',
        type=float,
        default=1.0,
        help='learning-rate multiplier of a pretrained backbone in full fine-tuning (paramwise_cfg)',
    )
    p.add_argument(
        '--norm-eval',
        action='store_true',
        help='full fine-tuning keeps the BN statistics of the pretrained backbone (backbone norm_eval)',
    )
    p.add_argument(
        '--probe-iters',
        type=int,
        default=0,
        help='full fine-tuning from a pretrained backbone trains only the heads for the first PROBE_ITERS '
        'iterations, then the whole network (ProbeThenFinetuneHook; linear probing, then fine-tuning)',
    )
    p.add_argument(
        '--reestimate-bn',
        action='store_true',
        help="fine-tuning from a pretrained backbone first re-estimates every BN layer's statistics on 50 "
        'batches of the labelled training data (ReestimateBNHook; with --norm-eval they are then kept). '
        'These four recipe flags change pretrained starts only: '
        'random-init keeps the plain recipe',
    )
    p.add_argument('--batch', type=int, default=16, help='pretraining images per step (2 views each)')
    p.add_argument('--seg-batch', type=int, default=4, help='fine-tuning images per step')
    p.add_argument(
        '--size', type=int, default=128, help='pretraining tile size and segmentation crop size (VTS: image size)'
    )
    p.add_argument('--view-size', type=int, default=64, help='pretraining view size')
    p.add_argument(
        '--seg-scale',
        type=int,
        default=None,
        help='Dubai data: fine-tuning and test images are resized to fit SEG_SCALE px (default 2 x --size)',
    )
    p.add_argument(
        '--pretrain-config',
        action='append',
        default=[],
        metavar='NAME=CONFIG',
        help='another pretraining method: a config with a ResNet backbone (e.g. MoCo v2); '
        'the sweep sets its data, depth, batch and iterations. Repeatable',
    )
    p.add_argument('--workers', type=int, default=2, help='dataloader workers')
    p.add_argument(
        '--reuse-pretraining',
        metavar='SWEEP_DIR',
        help='take the pretraining checkpoints of an earlier sweep with the same pretraining settings '
        '(fine-tuning ablations without pretraining again)',
    )


def check_budget_args(p: argparse.ArgumentParser, args) -> None:
    for key in ('pretrain_iters', 'finetune_iters', 'batch', 'seg_batch', 'size', 'view_size'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive, got {getattr(args, key)}')
    if args.batch < 2:
        p.error('--batch must be at least 2 (the contrastive loss needs negatives)')
    if not 0.0 <= args.warmup_share < 1.0:
        p.error(f'--warmup-share must lie in [0, 1), got {args.warmup_share}')
    if args.view_size > args.size:
        p.error(f'--view-size {args.view_size} is larger than --size {args.size}')
    if args.seg_scale is not None and args.seg_scale < args.size:
        p.error(f'--seg-scale {args.seg_scale} is smaller than the crop --size {args.size}')
    if args.seg_scale is not None and args.dataset_config:
        p.error('--seg-scale applies to the Dubai data; set the resize of --dataset-config in that config')
    if not 0 <= args.probe_iters < args.finetune_iters:
        p.error(f'--probe-iters must lie in [0, --finetune-iters {args.finetune_iters}), got {args.probe_iters}')
    if args.finetune_lr is None:
        args.finetune_lr = FINETUNE_DEFAULT_LR[args.finetune_optimizer]
    if args.finetune_lr <= 0 or args.backbone_lr_mult < 0:
        p.error(
            f'--finetune-lr must be positive and --backbone-lr-mult non-negative, got '
            f'{args.finetune_lr} and {args.backbone_lr_mult}'
        )
    args.pretrain_configs = dict(BUILTIN_PRETRAIN)
    for item in args.pretrain_config:
        name, sep, path = item.partition('=')
        if not sep or not name or not path:
            p.error(f'--pretrain-config {item!r}: expected NAME=CONFIG')
        if name == 'random-init' or not re.fullmatch(r'[A-Za-z][\w.+-]*', name):
            p.error(f'--pretrain-config {item!r}: {name!r} is not a usable method name')
        if not osp.isfile(path):
            p.error(f'--pretrain-config {item!r}: config file {path} does not exist')
        from grass_mm.runtime import check_pretrain_config

        try:  # a segmentation config (or one that does not read) is refused here, not inside a later step
            check_pretrain_config(path)
        except ValueError as err:
            p.error(str(err))
        args.pretrain_configs[name] = osp.abspath(path)


def parse_fraction(text: str) -> float:
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'label fraction {text!r} is not a number') from None
    if not 0 < f <= 1:
        raise argparse.ArgumentTypeError(f'label fraction {text} is outside (0, 1]')
    return f


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        '--work-dir',
        default='work_dirs/sweep',
        help='output folder: new, empty, or an earlier sweep with the same settings (resumed)',
    )
    p.add_argument(
        '--methods',
        nargs='+',
        default=['random-init', 'SimCLR', 'GraSS'],
        help='random-init, SimCLR, GraSS and any NAME of --pretrain-config',
    )
    p.add_argument(
        '--fractions',
        nargs='+',
        type=parse_fraction,
        default=[1.0],
        help='label fractions in (0, 1] of the training set (seeded random subsets)',
    )
    p.add_argument(
        '--protocols',
        nargs='+',
        default=['frozen', 'full'],
        choices=PROTOCOLS,
        help='linear (1x1 conv on the frozen encoder, BN frozen), frozen (FCN/UPerNet head on the frozen encoder) '
        'and/or full fine-tuning',
    )
    p.add_argument(
        '--folds',
        default='none',
        choices=FOLD_SCHEMES,
        help='tiles: leave-one-tile-out cross-validation over the tile_N folders of the Dubai data (each fold '
        "pretrains and fine-tunes on the other tiles and evaluates on its own); none: the data's own split",
    )
    p.add_argument(
        '--fold-tiles',
        nargs='+',
        default=None,
        metavar='TILE',
        help='with --folds tiles: run only these folds (e.g. tile_1 tile_2; another process may run the others '
        'in the same --work-dir); default: every tile',
    )
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--confidence', type=float, default=0.95, help='confidence level of the intervals')
    p.add_argument(
        '--report-only',
        action='store_true',
        help='run nothing: write the report of the finished runs among the requested ones',
    )
    add_budget_args(p)
    args = p.parse_args(argv)
    check_budget_args(p, args)
    check_plan_args(p, args)
    return args


def check_plan_args(p, args) -> None:
    known = {'random-init', SUPERVISED, *args.pretrain_configs, *RANDOM_BOX_CONTROLS}
    unknown = [m for m in args.methods if m not in known]
    if unknown:
        p.error(
            f'unknown method(s) {unknown}: use random-init, {", ".join(sorted(known - {"random-init"}))} '
            f'or add one with --pretrain-config NAME=CONFIG'
        )
    for control, base in RANDOM_BOX_CONTROLS.items():
        if control in args.methods and base not in args.methods:
            p.error(f'--methods {control} starts from the warm-up of {base}: list {base} too')
    if getattr(args, 'fold_tiles', None) and getattr(args, 'folds', 'none') != 'tiles':
        p.error('--fold-tiles needs --folds tiles')
    for key in ('methods', 'fractions', 'protocols', 'seeds'):
        vals = getattr(args, key)
        if len(set(vals)) != len(vals):
            p.error(f'--{key} lists a value twice: {vals}')
    if not 0 < args.confidence < 1:
        p.error(f'--confidence must lie in (0, 1), got {args.confidence}')


# ----------------------------------------------------------------------------- data
def image_folder(seg, split):
    """``(data_root, img_path prefix)`` of the ``{split}_dataloader`` dataset."""
    ds = seg[f'{split}_dataloader']['dataset']
    while ds.get('type') == 'LabelSubsetDataset':
        ds = ds['dataset']
    prefix = ds.get('data_prefix', {})
    return ds.get('data_root', '') or '', prefix.get('img_path', '') if isinstance(prefix, dict) else prefix


def split_images(seg, split):
    """Sorted image files of the ``{split}_dataloader`` dataset's image folder."""
    folder = osp.join(*image_folder(seg, split))
    return sorted(
        q
        for q in glob.glob(osp.join(folder, '**', '*'), recursive=True)
        if q.lower().endswith(('.png', '.jpg', '.jpeg', '.tif', '.tiff'))
    )


def _scaled_dubai(root, size, scale=None):
    """``configs/_base_/datasets/dubai.py`` at ``root``: crops of ``size`` px from images resized to fit
    ``scale`` px (default ``2 * size``; the test images too)."""
    scale = scale or 2 * size
    cfg = load_config(osp.join(REPO, 'configs', '_base_', 'datasets', 'dubai.py'))
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


def tile_folds(args):
    """``--folds tiles``: ``(every tile of the Dubai data, the tiles whose folds run now)``."""
    if args.dataset_config:
        raise SweepError('--folds tiles needs the Dubai data (tile_N folders), not --dataset-config')
    src = args.data or DEMO_DATA
    tiles = sorted(
        (d for d in os.listdir(src) if re.fullmatch(r'tile_\d+', d) and osp.isdir(osp.join(src, d, 'images')))
        if osp.isdir(src)
        else [],
        key=lambda d: int(d[5:]),
    )
    if args.reuse_pretraining:
        raise SweepError('--folds tiles pretrains per fold: --reuse-pretraining does not apply')
    if len(tiles) < 2:
        raise SweepError(f'--folds tiles: {src} needs at least two tile_N/images folders (the raw Kaggle layout)')
    chosen = args.fold_tiles or tiles
    unknown = sorted(set(chosen) - set(tiles))
    if unknown:
        raise SweepError(f'--fold-tiles {" ".join(unknown)}: no such tile in {src} (tiles: {" ".join(tiles)})')
    return tiles, [t for t in tiles if t in chosen]


def prepare_data(args, work_dir, val_tile=None):
    """-> dict(name, seg (the dataset keys of a config), num_classes, crop).

    ``val_tile``: convert the raw Dubai data with that tile as the validation split (a fold of ``--folds tiles``);
    default tile_6.
    """
    if args.dataset_config:
        if not osp.isfile(args.dataset_config):
            raise SweepError(f'--dataset-config {args.dataset_config} does not exist')
        cfg = load_config(args.dataset_config)
        missing = [k for k in ('train_dataloader', 'val_dataloader', 'val_evaluator') if k not in cfg]
        if missing:
            raise SweepError(f'--dataset-config {args.dataset_config} lacks {missing}')
        ds = cfg.train_dataloader.dataset
        train_dir = osp.join(*image_folder(cfg, 'train'))
        if not osp.isdir(train_dir):
            raise SweepError(
                f'--dataset-config {args.dataset_config}: training images {train_dir} '
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
                raise SweepError(f'--dataset-config {args.dataset_config}: unknown dataset type {ds.type!r}')
            num_classes = len(cls.METAINFO['classes'])
        crop = cfg.get('crop_size', (args.size, args.size))
        seg = {k: cfg[k] for k in DATASET_KEYS if k in cfg}
        seg.setdefault('test_dataloader', cfg.val_dataloader)
        seg.setdefault('test_evaluator', cfg.val_evaluator)
        name = ds.type[: -len('Dataset')] if ds.type.endswith('Dataset') else ds.type
        return dict(name=name, seg=seg, num_classes=num_classes, crop=tuple(crop))
    from grass_mm.datasets.converters import convert_dubai_aerial

    src = args.data or DEMO_DATA
    what = f'--data {args.data}' if args.data else f'the demo data {DEMO_DATA}'
    if not osp.isdir(src):
        raise SweepError(f'{what} is not a folder')
    if osp.isdir(osp.join(src, 'img_dir', 'train')):
        if val_tile:
            raise SweepError(f'{what}: a converted root has a fixed split; --folds tiles needs the raw tile_N layout')
        return _scaled_dubai(osp.abspath(src), args.size, args.seg_scale)
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
    return _scaled_dubai(root, args.size, args.seg_scale)


# ----------------------------------------------------------------------------- configs
def _loaders(cfg, workers):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg:
            cfg[key]['num_workers'] = workers
            cfg[key]['persistent_workers'] = workers > 0


def _with_view_size(pipeline, size):
    """A copy of a pretraining pipeline whose ``RandomResizedCrop`` views are ``size`` px."""

    def fix(t):
        if isinstance(t, dict):
            t = {k: fix(v) for k, v in t.items()}
            if t.get('type') == 'RandomResizedCrop':
                t['scale'] = size
            return t
        if isinstance(t, (list, tuple)):
            return [fix(v) for v in t]
        return t

    return fix(pipeline)


def pretrain_config(method, args, data, seed):
    """The pretraining config of ``method``: its config file with the sweep's data and budget.

    A GraSS run also saves its warm-up checkpoint (``warmup_end.pth``); a random-box control
    (:data:`RANDOM_BOX_CONTROLS`) is its GraSS config with ``box_mode='random'``, which the runner resumes from that
    checkpoint.
    """
    base = RANDOM_BOX_CONTROLS.get(method, method)
    cfg = load_config(args.pretrain_configs[base])
    if method in RANDOM_BOX_CONTROLS:
        cfg.model.box_mode = 'random'
    n = args.pretrain_iters
    chans = CHANNELS[args.depth][-1]
    if cfg.model.get('backbone', {}).get('type') != 'ResNet':
        raise SweepError(
            f'pretraining config of {method} ({args.pretrain_configs[base]}): backbone type '
            f'{cfg.model.get("backbone", {}).get("type")!r}, the fine-tuning backbone is ResNet'
        )
    cfg.model.backbone.depth = args.depth
    neck = cfg.model.get('neck') or {}
    if neck.get('type') in ('NonLinearNeck', 'MoCoV2Neck', 'DenseCLNeck'):
        cfg.model.neck.update(in_channels=chans, hid_channels=chans)
    elif neck.get('type') == 'LinearNeck':
        cfg.model.neck.in_channels = chans
    root, prefix = image_folder(data['seg'], 'train')
    ds = cfg.train_dataloader.dataset
    ds.update(
        type='RSTileDataset',
        data_root=root,
        data_prefix=prefix,
        tile_size=args.size,
        stride=args.size,
        pipeline=_with_view_size(ds.pipeline, args.view_size),
    )
    ds.pop('include', None)
    cfg.train_dataloader.batch_size = args.batch
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    _loaders(cfg, args.workers)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=n)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=n, by_epoch=False, begin=0, end=n)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, min(10, n // 5)))
    cfg.log_processor = dict(by_epoch=False)
    cfg.randomness = dict(seed=seed)
    cfg.custom_hooks = [
        dict(h, warmup_iters=int(round(args.warmup_share * n)), save_warmup_checkpoint=True)
        if h['type'] == 'GraSSWarmupHook'
        else h
        for h in cfg.get('custom_hooks', [])
    ]
    return cfg


def finetune_config(method, args, data, ckpt=None, protocol='full', fraction=1.0, seed=0):
    """FCN/UPerNet-R{depth} on the dataset, initialised from ``ckpt`` (None: random)."""
    cfg = load_config(osp.join(QS_CONFIGS, f'{args.decoder}_r18_quickstart_vts.py'))
    for k, v in data['seg'].items():
        cfg[k] = v
    chans = CHANNELS[args.depth]
    nc = data['num_classes']
    cfg.num_classes = nc
    cfg.model.backbone.depth = args.depth
    cfg.model.data_preprocessor.size = data['crop']
    cfg.model.decode_head.update(in_channels=chans[3] if args.decoder == 'fcn' else chans, num_classes=nc)
    cfg.model.auxiliary_head.update(in_channels=chans[2], num_classes=nc)
    cfg.model.backbone.init_cfg = None if ckpt is None else dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    # the fine-tuning recipe flags change pretrained starts only (random-init has no features or statistics
    # to protect, and its baseline is the plain recipe)
    recipe = protocol == 'full' and method != 'random-init'
    if protocol in ('frozen', 'linear'):  # every stage, the stem and the BN statistics stay as initialised
        cfg.model.backbone.update(frozen_stages=4, norm_eval=True)
    if protocol == 'linear':  # a 1x1 conv (conv_seg) on the last stage's features: no conv, no dropout, no aux head
        cfg.model.decode_head = dict(
            cfg.model.decode_head,
            type='FCNHead',
            in_index=3,
            in_channels=chans[3],
            channels=chans[3],
            num_convs=0,
            concat_input=False,
            dropout_ratio=0.0,
        )
        for key in ('kernel_size', 'dilation', 'pool_scales', 'input_transform'):
            cfg.model.decode_head.pop(key, None)
        cfg.model.auxiliary_head = None
    elif recipe and args.norm_eval:
        cfg.model.backbone.norm_eval = True
    if fraction < 1:
        cfg.train_dataloader.dataset = dict(
            type='LabelSubsetDataset', dataset=cfg.train_dataloader.dataset, fraction=fraction, seed=seed
        )
    n = args.finetune_iters
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=n, val_interval=n)
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=n, by_epoch=False)]
    if FINETUNE_OPTIMIZERS[args.finetune_optimizer] is not None:
        cfg.optim_wrapper.optimizer = dict(FINETUNE_OPTIMIZERS[args.finetune_optimizer])
    cfg.optim_wrapper.optimizer.lr = args.finetune_lr * (LINEAR_LR_MULT if protocol == 'linear' else 1.0)
    if recipe and args.backbone_lr_mult != 1:
        cfg.optim_wrapper.paramwise_cfg = dict(custom_keys={'backbone': dict(lr_mult=args.backbone_lr_mult)})
    if recipe and args.probe_iters:
        cfg.custom_hooks = [
            *cfg.get('custom_hooks', []),
            dict(type='ProbeThenFinetuneHook', probe_iters=args.probe_iters),
        ]
    if recipe and args.reestimate_bn:
        reestimate = dict(type='ReestimateBNHook', num_samples=REESTIMATE_BATCHES * args.seg_batch)
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), reestimate]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, min(10, n // 5)))
    cfg.train_dataloader.batch_size = args.seg_batch
    _loaders(cfg, args.workers)
    cfg.randomness = dict(seed=seed)
    for key in ('val_evaluator', 'test_evaluator'):  # per-class IoU and test-pixel shares for the reports
        if cfg.get(key, {}).get('type') == 'IoUMetric':
            cfg[key] = dict(cfg[key], type='ClassIoUMetric')
    cfg.grass_mm_meta = dict(method=method, dataset=data['name'], protocol=protocol, fraction=fraction, seed=seed)
    return cfg


def check_backbones(args, data) -> None:
    """Every pretraining backbone must provide every key of the fine-tuning backbone (before any run)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRE_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    import grass_mm  # noqa: F401

    init_default_scope('mmseg')
    seg_keys = set(SEG_MODELS.build(finetune_config('random-init', args, data).model.backbone).state_dict())
    for method in args.methods:
        if method in ('random-init', SUPERVISED, *RANDOM_BOX_CONTROLS):  # the last two: checked through their base
            continue
        cfg = pretrain_config(method, args, data, seed=0)
        try:
            pre_keys = set(PRE_MODELS.build(cfg.model.backbone).state_dict())
        except Exception as err:
            raise SweepError(
                f'pretraining config of {method} ({args.pretrain_configs[method]}): its backbone '
                f'does not build: {type(err).__name__}: {err}'.splitlines()[0]
            ) from None
        missing = sorted(seg_keys - pre_keys)
        if missing:
            raise SweepError(
                f'pretraining config of {method} ({args.pretrain_configs[method]}): its backbone '
                f'lacks {len(missing)} key(s) of the fine-tuning backbone, e.g. {missing[:3]}'
            )


# ----------------------------------------------------------------------------- running
class Steps:
    """Runs ordinary tool commands in subprocesses, shows their progress, records them."""

    LOG = re.compile(r' - mmengine - \w+ - (.*)$')
    KEEP = re.compile(
        r'^(Iter\(\w+\) \[\s*\d+/\d+\]\s+(?:lr: \S+\s+)?(?:eta: \S+)?)(?:.*?(loss: \S+))?'
        r'|^(Iter\(\w+\) .*mIoU.*)$|^(Saving checkpoint.*)$'
    )

    def __init__(self, work_dir, device, total, quiet=False):
        self.work_dir, self.total, self.done, self.quiet = work_dir, total, 0, quiet
        self.env = dict(os.environ)
        if device == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        self.env['PYTHONPATH'] = os.pathsep.join(filter(None, [REPO, self.env.get('PYTHONPATH')]))
        self.commands = osp.join(work_dir, 'commands.sh')
        if not osp.isfile(self.commands):
            with open(self.commands, 'w') as f:
                f.write(
                    '#!/usr/bin/env bash\n# The commands that were run, in order.\n'
                    f'set -e\ncd {shlex.quote(os.getcwd())}\n'
                )
        self.start = time.time()
        self.timed = {}  # kind -> [seconds of each executed step]

    def progress(self, text):
        """The part of an mmengine log line worth showing (ETA, loss, metrics), or None."""
        m = self.LOG.search(text.rstrip())
        if not m:
            return None
        k = self.KEEP.match(m.group(1))
        if not k:
            return None
        if k.group(1):
            return ' '.join(filter(None, (k.group(1).strip(), k.group(2))))
        return (k.group(3) or k.group(4)).strip()

    def eta(self, remaining_kinds):
        """Seconds left: each remaining step costs the mean of the executed steps of its kind."""
        if not self.timed:
            return None
        every = [t for ts in self.timed.values() for t in ts]
        mean_all = sum(every) / len(every)
        return sum(sum(self.timed[k]) / len(self.timed[k]) if k in self.timed else mean_all for k in remaining_kinds)

    def skip(self, title, why='finished earlier, skipped'):
        self.done += 1
        print(f'[{self.done}/{self.total}] {title}: {why}', flush=True)

    def run(self, title, cmd, log, kind='step', remaining=()):
        self.done += 1
        eta = self.eta([kind] + list(remaining))
        eta_s = '' if eta is None else f', ETA {time.strftime("%H:%M:%S", time.gmtime(eta))}'
        print(f'\n[{self.done}/{self.total}] {title}  ({time.time() - self.start:.0f} s so far{eta_s})', flush=True)
        cwd = os.getcwd()
        rel = [osp.relpath(c, cwd) if osp.isabs(c) and c.startswith(cwd + os.sep) else c for c in cmd]
        line = ' '.join(['python'] + [shlex.quote(c) for c in rel[1:]])
        print(f'    $ {line}', flush=True)
        with open(self.commands, 'a') as f:
            f.write(line + '\n')
        os.makedirs(osp.dirname(log), exist_ok=True)
        t0 = time.time()
        with open(log, 'w') as out:
            proc = subprocess.Popen(
                cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            tail = []
            for text in proc.stdout:
                out.write(text)
                tail = (tail + [text])[-30:]
                shown = None if self.quiet else self.progress(text)
                if shown:
                    print('    ' + shown, flush=True)
            rc = proc.wait()
        if rc:
            raise SweepError(f'step "{title}" failed (exit {rc}); full output in {log}; last lines:\n' + ''.join(tail))
        self.timed.setdefault(kind, []).append(time.time() - t0)


def last_checkpoint(work_dir):
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise SweepError(f'{work_dir}: the run wrote no checkpoint (no last_checkpoint file)')
    with open(path) as f:
        ckpt = f.read().strip()
    return osp.abspath(ckpt)


def finished_checkpoint(work_dir, iters):
    """The final checkpoint of a finished run, or None."""
    ckpt = osp.join(work_dir, f'iter_{iters}.pth')
    return osp.abspath(ckpt) if osp.isfile(ckpt) else None


def finished_metrics(work_dir, iters) -> Optional[dict]:
    """The metrics of a finished run (its evaluation after ``iters`` iterations, or a tools/test.py result),
    else None."""
    from grass_mm.analysis import ResultsNotFoundError, read_metrics

    if not finished_checkpoint(work_dir, iters):
        return None
    try:
        return read_metrics(work_dir)[0]
    except (ResultsNotFoundError, ValueError):
        return None


def has_result(work_dir, iters) -> bool:
    """True when the run finished (see :func:`finished_metrics`)."""
    return finished_metrics(work_dir, iters) is not None


def changed_settings(stored: dict, now: dict, keys) -> dict:
    """``{key: (stored value, current value)}`` for the ``keys`` that differ; a setting added after the stored
    marker was written reads as its default (:data:`NEW_SETTING_DEFAULTS`)."""
    old = {k: stored.get(k, NEW_SETTING_DEFAULTS.get(k)) for k in keys}
    return {k: (old[k], now[k]) for k in keys if old[k] != now[k]}


def prepare_work_dir(work_dir: str, settings: dict) -> bool:
    """A new or empty folder, or an earlier sweep with the same settings (returns True: resumed)."""
    state = osp.join(work_dir, MARKER)
    if osp.exists(work_dir) and not osp.isdir(work_dir):
        raise SweepError(f'--work-dir {work_dir} is a file')
    if osp.isdir(work_dir) and os.listdir(work_dir):
        if not osp.isfile(state):
            raise SweepError(
                f'--work-dir {work_dir} exists and is not empty, and no sweep made it; '
                f'choose another --work-dir (nothing was changed)'
            )
        with open(state) as f:
            before = json.load(f)
        changed = changed_settings(before, settings, settings)
        if changed:
            what = ', '.join(f'{k}: {a!r} -> {b!r}' for k, (a, b) in changed.items())
            raise SweepError(
                f'--work-dir {work_dir} holds a sweep with other settings ({what}); '
                f'use another --work-dir to change them'
            )
        return True
    os.makedirs(work_dir, exist_ok=True)
    with open(state, 'w') as f:
        json.dump(settings, f, indent=1)
    return False


def undo_work_dir(work_dir: str, existed: bool) -> None:
    """Leave nothing behind after a failed start: remove the folder, or empty it again (it was empty)."""
    if not existed:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    for name in os.listdir(work_dir):
        path = osp.join(work_dir, name)
        shutil.rmtree(path) if osp.isdir(path) else os.remove(path)


def budget_settings(args) -> dict:
    out = {k: getattr(args, k, NEW_SETTING_DEFAULTS.get(k)) for k in BUDGET_KEYS}
    out['pretrain_config'] = sorted(args.pretrain_config)
    if out['reuse_pretraining']:
        out['reuse_pretraining'] = osp.abspath(out['reuse_pretraining'])
    return out


def check_reuse(args) -> None:
    """``--reuse-pretraining DIR``: DIR is a sweep whose pretraining settings equal these ones, and it holds
    the final checkpoint of every (method, seed) this sweep needs."""
    src = args.reuse_pretraining
    state = osp.join(src, MARKER)
    if not osp.isfile(state):
        raise SweepError(f'--reuse-pretraining {src}: not a sweep work dir (no {MARKER})')
    with open(state) as f:
        theirs = json.load(f)
    changed = changed_settings(theirs, budget_settings(args), PRETRAIN_KEYS)
    changed = [f'{k}: {a!r} there, {b!r} here' for k, (a, b) in changed.items()]
    if changed:
        raise SweepError(f'--reuse-pretraining {src}: other pretraining settings ({"; ".join(changed)})')
    missing = [
        osp.join(src, 'pretrain', m.lower(), f'seed{s}', f'iter_{args.pretrain_iters}.pth')
        for s in args.seeds
        for m in args.methods
        if m not in ('random-init', SUPERVISED)
    ]
    missing = [p for p in missing if not osp.isfile(p)]
    if missing and not getattr(args, 'report_only', False):  # --report-only lists their runs as not run yet
        raise SweepError(f'--reuse-pretraining {src}: no finished pretraining {missing[0]} ({len(missing)} missing)')


def run_name(method, protocol, fraction, seed):
    return f'{method.lower()}/{protocol}/frac{fraction:g}/seed{seed}'


def run_sweep(args, work_dir, data, steps_extra=0, quiet=False, pictures=None):
    """Run (or resume) every step; returns ``(records, pretrain, steps)``.

    ``pictures``: ``dict(key=(protocol, fraction, seed), interval=K)``: the fine-tuning runs of that setting draw
    every K-th validation prediction (mmseg's SegVisualizationHook, into ``<work_dir>/<timestamp>/vis_data/vis_image``).

    ``records``: one dict per fine-tuning run (method, protocol, fraction, seed, work_dir, metrics);
    ``pretrain``: ``{(method, seed): (config path, checkpoint)}``.
    """
    cfg_dir = osp.join(work_dir, 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    py = sys.executable
    report_only = getattr(args, 'report_only', False)
    # a random-box control resumes its GraSS run's warm-up: pretrain the bases first
    ssl = [m for m in args.methods if m not in ('random-init', SUPERVISED, *RANDOM_BOX_CONTROLS)]
    ssl += [m for m in args.methods if m in RANDOM_BOX_CONTROLS]
    n_pre = len(ssl) * len(args.seeds)
    n_ft = len(args.methods) * len(args.protocols) * len(args.fractions) * len(args.seeds)
    steps = Steps(work_dir, args.device, total=n_pre + n_ft + steps_extra, quiet=quiet)
    kinds = ['pretrain'] * n_pre + ['finetune'] * n_ft

    def remaining():
        return kinds[steps.done :]

    def pretrain_dir(method, seed):
        return osp.join(args.reuse_pretraining or work_dir, 'pretrain', method.lower(), f'seed{seed}')

    pretrain = {}
    for seed in args.seeds:
        for method in ssl:
            name = f'{method.lower()}_r{args.depth}_{data["name"].lower()}_seed{seed}'
            path = osp.join(cfg_dir, 'pretrain_' + name + '.py')
            wd = pretrain_dir(method, seed)
            cfg = pretrain_config(method, args, data, seed)
            if method in RANDOM_BOX_CONTROLS:
                from grass_mm.selfsup import GraSSWarmupHook

                base_ckpt = pretrain.get((RANDOM_BOX_CONTROLS[method], seed), (None, None))[1]
                warm = osp.join(osp.dirname(base_ckpt or ''), GraSSWarmupHook.WARMUP_CHECKPOINT)
                cfg.update(load_from=warm, resume=True)
            cfg.dump(path)
            ckpt = finished_checkpoint(wd, args.pretrain_iters)
            title = f'pretraining {method} (ResNet-{args.depth}, {args.pretrain_iters} iterations, seed {seed})'
            if ckpt:
                steps.skip(title)
            elif report_only:
                steps.skip(title, 'not run yet (--report-only)')
                continue
            elif args.reuse_pretraining:
                raise SweepError(f'--reuse-pretraining: {wd} holds no iter_{args.pretrain_iters}.pth')
            else:
                if method in RANDOM_BOX_CONTROLS and not osp.isfile(cfg.load_from):
                    raise SweepError(f'{method}: the warm-up checkpoint {cfg.load_from} of its GraSS run is missing')
                steps.run(
                    title,
                    [py, osp.join(TOOLS, 'train.py'), path, '--work-dir', wd],
                    osp.join(wd, 'stdout.log'),
                    'pretrain',
                    remaining()[1:],
                )
                ckpt = last_checkpoint(wd)
            pretrain[(method, seed)] = (path, ckpt)

    done = {}  # run name -> record

    def finetune(method, protocol, fraction, seed):
        """The record of one fine-tuning run (run now unless finished), or None (--report-only, not run yet)."""
        rn = run_name(method, protocol, fraction, seed)
        if rn in done:
            return done[rn]
        wd = osp.join(work_dir, 'finetune', rn)
        what = f'{method}, {protocol}, {fraction:g} of the labels, seed {seed}'
        metrics = finished_metrics(wd, args.finetune_iters)
        if report_only and metrics is None:
            steps.skip(f'fine-tuning ({what})', 'not run yet (--report-only)')
            return None
        if method == 'random-init':
            ckpt = None
        elif method == SUPERVISED:  # the positive control's encoder: trained with all labels of these images
            source = finetune('random-init', 'full', 1.0, seed)
            ckpt = None if source is None else finished_checkpoint(source['work_dir'], args.finetune_iters)
            if ckpt is None:
                steps.skip(f'fine-tuning ({what})', 'not run yet (--report-only)')
                return None
        else:
            ckpt = pretrain.get((method, seed), (None, None))[1]
        path = osp.join(cfg_dir, f'{args.decoder}_r{args.depth}_' + rn.replace('/', '_') + '.py')
        cfg = finetune_config(method, args, data, ckpt, protocol, fraction, seed)
        if pictures and pictures['key'] == (protocol, fraction, seed):
            vis = dict(type='SegVisualizationHook', draw=True, interval=pictures['interval'])
            cfg.default_hooks.visualization = vis
        cfg.dump(path)
        if metrics is not None:
            steps.skip(f'fine-tuning ({what})')
        else:
            steps.run(
                f'fine-tuning {args.decoder.upper()} ({what}, {args.finetune_iters} iterations, then IoUMetric)',
                [py, osp.join(TOOLS, 'train.py'), path, '--work-dir', wd],
                osp.join(wd, 'stdout.log'),
                'finetune',
                remaining()[1:],
            )
            metrics = finished_metrics(wd, args.finetune_iters)
            if metrics is None:
                raise SweepError(f'fine-tuning {wd} finished without a validation result')
        done[rn] = dict(
            method=method, protocol=protocol, fraction=fraction, seed=seed, work_dir=wd, config=path, **metrics
        )
        return done[rn]

    records = []
    for seed in args.seeds:
        for fraction in args.fractions:
            for protocol in args.protocols:
                for method in args.methods:
                    rec = finetune(method, protocol, fraction, seed)
                    if rec is not None:
                        records.append(rec)
    return records, pretrain, steps


def pretrain_losses(work_dir, pretrain, batch):
    """``{(method, seed): (first, last) logged loss}`` and the chance level ln(2N - 1)."""
    import math

    out = {}
    for key, (_, ckpt) in pretrain.items():
        losses = []
        for scalars in sorted(glob.glob(osp.join(osp.dirname(ckpt), '*', 'vis_data', 'scalars.json'))):
            with open(scalars) as f:
                losses += [json.loads(line)['loss'] for line in f if '"loss"' in line]
        if losses:
            out[key] = (losses[0], losses[-1])
    return out, math.log(2 * batch - 1)


def write_outputs(records, work_dir, args, pretrain=None, title=None):
    """results.csv / results.md / results.png; returns the Markdown text."""
    from grass_mm.analysis.sweep_report import plot_sweep, sweep_markdown, write_sweep_csv

    write_sweep_csv(records, osp.join(work_dir, 'results.csv'))
    md = sweep_markdown(records, confidence=args.confidence, title=title)
    if pretrain:
        losses, chance = pretrain_losses(work_dir, pretrain, args.batch)
        if losses:
            md += (
                f'\nPretraining loss (first -> last logged), against chance level ln(2N-1) = {chance:.2f} for '
                f'N = {args.batch} images (a run that stays at chance learned nothing):\n\n'
                '| method | seed | first | last | below chance by |\n|---|---|---|---|---|\n'
            )
            for (m, s), (a, b) in sorted(losses.items(), key=lambda kv: (kv[0][0], kv[0][1])):
                md += f'| {m} | {s} | {a:.3f} | {b:.3f} | {chance - b:+.3f} |\n'
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(md)
    plot_sweep(records, osp.join(work_dir, 'results.png'), confidence=args.confidence, title=title)
    return md


def run_cv(args, work_dir, tiles, chosen, t0):
    """``--folds tiles``: one sweep per fold in ``WORK_DIR/folds/<tile>``, then the cross-validation report over
    every fold that has finished (also the folds another process ran in this work dir)."""
    from grass_mm.analysis.folds import cv_markdown, read_cv_csv, write_cv_csv

    for i, tile in enumerate(chosen):
        fold_dir = osp.join(work_dir, 'folds', tile)
        os.makedirs(fold_dir, exist_ok=True)
        print(f'\n===== fold {i + 1}/{len(chosen)}: evaluate on {tile}, train on the other tiles', flush=True)
        data = prepare_data(args, fold_dir, val_tile=tile)
        records, pretrain, _ = run_sweep(args, fold_dir, data)
        if records:
            write_outputs(records, fold_dir, args, pretrain, title=f'{data["name"]}, fold {tile}')
            write_cv_csv([dict(r, fold=tile) for r in records], osp.join(fold_dir, 'fold_results.csv'))
    records = []
    for tile in tiles:
        path = osp.join(work_dir, 'folds', tile, 'fold_results.csv')
        if osp.isfile(path):
            records += read_cv_csv(path)
    if not records:
        raise SweepError(f'{work_dir}: no fold has finished yet')
    for r in records:  # relative work dirs: the table does not depend on where the sweep ran
        r['work_dir'] = osp.relpath(r['work_dir'], work_dir)
    write_cv_csv(records, osp.join(work_dir, 'results.csv'))
    done = sorted({r['fold'] for r in records}, key=tiles.index)
    md = cv_markdown(records, confidence=args.confidence)
    if len(done) < len(tiles):
        print(f'[cv] {len(done)} of {len(tiles)} folds finished: {", ".join(done)}', flush=True)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(md)
    print('\n' + md)
    print(f'done in {time.time() - t0:.0f} s. Written to {work_dir}: results.csv, results.md, folds/<tile>/')


def main(argv=None):
    args = parse_args(argv)
    if args.device == 'cuda':
        import torch

        if not torch.cuda.is_available():
            raise SweepError('--device cuda, but torch sees no GPU')
    work_dir = osp.abspath(args.work_dir)
    settings = budget_settings(args)
    if args.report_only and not osp.isfile(osp.join(work_dir, MARKER)):
        raise SweepError(f'--report-only: {work_dir} holds no sweep')
    tiles = chosen = None
    if args.folds == 'tiles':
        tiles, chosen = tile_folds(args)
    existed = osp.isdir(work_dir)
    resumed = prepare_work_dir(work_dir, settings)
    try:
        if tiles:
            data = prepare_data(args, osp.join(work_dir, 'folds', chosen[0]), val_tile=chosen[0])
        else:
            data = prepare_data(args, work_dir)
        check_backbones(args, data)
        if args.reuse_pretraining:
            check_reuse(args)
    except SweepError:
        if not resumed:
            undo_work_dir(work_dir, existed)
        raise
    if resumed:
        print(f'[sweep] resuming {work_dir}: finished runs are skipped', flush=True)
    t0 = time.time()
    if tiles:
        return run_cv(args, work_dir, tiles, chosen, t0)
    records, pretrain, _ = run_sweep(args, work_dir, data)
    if not records:
        raise SweepError(f'{work_dir}: none of the requested fine-tuning runs has finished yet')
    md = write_outputs(records, work_dir, args, pretrain, title=f'{data["name"]}, {args.decoder.upper()}-R{args.depth}')
    print('\n' + md)
    print(
        f'done in {time.time() - t0:.0f} s. Written to {work_dir}: results.csv, results.md, results.png, '
        f'configs/, commands.sh, pretrain/, finetune/'
    )


if __name__ == '__main__':
    try:
        main()
    except SweepError as err:
        sys.exit(f'error: {err}')
