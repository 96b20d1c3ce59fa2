#!/usr/bin/env python
"""The main job in one command: pretrain (SimCLR and GraSS) -> fine-tune -> evaluate -> table.

    python tools/quickstart.py                                   # VTS, CPU, about 10-15 minutes
    python tools/quickstart.py --data ../shared/data/dubai_aerial --work-dir work_dirs/qs_dubai
    python tools/quickstart.py --dataset-config configs/_base_/datasets/potsdam.py --size 256
    python tools/quickstart.py --device cuda --depth 50 --pretrain-iters 5000 --finetune-iters 8000 \\
        --batch 64 --seg-batch 16 --size 256 --num-train 2000

Steps (each one an ordinary config run by ``tools/train.py`` / ``tools/test.py`` in a subprocess;
the configs are written to ``WORK_DIR/configs/`` and the exact commands to ``WORK_DIR/commands.sh``,
so every step can be rerun by hand or with ``mim train``):

1. data: the synthetic Voronoi-texture set (VTS) built from scikit-image's bundled textures (no
   download), or the Dubai aerial data (``--data``, raw Kaggle layout or already converted), or
   any mmseg dataset config (``--dataset-config``; its training images are the pretraining set);
2. pretraining with SimCLR and with GraSS: same backbone, data, budget and seed
   (``configs/quickstart/{simclr,grass}_r18_quickstart_vts.py``);
3. fine-tuning one segmentation model (FCN or UPerNet) from each checkpoint and from random
   initialisation (``configs/quickstart/{fcn,upernet}_r18_quickstart_vts.py``);
4. evaluation with mmseg's IoUMetric, prediction pictures, a Loss Attention Map picture of the
   GraSS checkpoint, and ``results.md`` / ``results.csv`` / ``results.png`` (mIoU, OA, mAcc).
"""
import argparse
import glob
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(REPO, 'tools')
QS_CONFIGS = osp.join(REPO, 'configs', 'quickstart')
MARKER = '.grass_mm_quickstart'
METHODS = ('random-init', 'SimCLR', 'GraSS')
CHANNELS = {18: [64, 128, 256, 512], 34: [64, 128, 256, 512], 50: [256, 512, 1024, 2048]}
DATASET_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator')


class QuickstartError(RuntimeError):
    """A user-fixable problem (bad flag, data, failed step); printed as one ``error:`` line."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/quickstart', help='output folder (must be new or empty)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace a WORK_DIR that an earlier quickstart created (never any other folder)')
    src = p.add_mutually_exclusive_group()
    src.add_argument('--data', help='Dubai aerial data: raw Kaggle folder (tile_N/...) or converted root')
    src.add_argument('--dataset-config', help='an mmseg dataset config (train/val dataloaders, evaluator)')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'],
                   help='cpu hides the GPUs from the runs; cuda needs a visible GPU')
    p.add_argument('--depth', type=int, default=18, choices=sorted(CHANNELS), help='ResNet depth')
    p.add_argument('--decoder', default='fcn', choices=['fcn', 'upernet'])
    p.add_argument('--pretrain-iters', type=int, default=200, help='iterations of each pretraining')
    p.add_argument('--warmup-share', type=float, default=0.5,
                   help='share of the GraSS iterations spent in the SimCLR warm-up')
    p.add_argument('--finetune-iters', type=int, default=150, help='iterations of each fine-tuning')
    p.add_argument('--batch', type=int, default=16, help='pretraining images per step (2 views each)')
    p.add_argument('--seg-batch', type=int, default=4, help='fine-tuning images per step')
    p.add_argument('--size', type=int, default=128,
                   help='VTS image size, pretraining tile size and segmentation crop size')
    p.add_argument('--view-size', type=int, default=64, help='pretraining view size')
    p.add_argument('--num-train', type=int, default=256, help='VTS training images')
    p.add_argument('--num-val', type=int, default=32, help='VTS validation images')
    p.add_argument('--num-pictures', type=int, default=4, help='validation images drawn (predictions, LAM)')
    p.add_argument('--workers', type=int, default=2, help='dataloader workers')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    for key in ('pretrain_iters', 'finetune_iters', 'batch', 'seg_batch', 'size', 'view_size', 'num_train',
                'num_val', 'num_pictures'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive, got {getattr(args, key)}')
    if args.batch < 2:
        p.error('--batch must be at least 2 (the contrastive loss needs negatives)')
    if not 0.0 <= args.warmup_share < 1.0:
        p.error(f'--warmup-share must lie in [0, 1), got {args.warmup_share}')
    if args.view_size > args.size:
        p.error(f'--view-size {args.view_size} is larger than --size {args.size}')
    return args


# ----------------------------------------------------------------------------- work dir
def prepare_work_dir(work_dir: str, overwrite: bool) -> None:
    """A new or empty folder; an earlier quickstart's folder only with ``--overwrite``."""
    if osp.isdir(work_dir) and os.listdir(work_dir):
        if not osp.isfile(osp.join(work_dir, MARKER)):
            raise QuickstartError(f'--work-dir {work_dir} exists and is not empty, and no quickstart made it; '
                                  f'choose another --work-dir (nothing was changed)')
        if not overwrite:
            raise QuickstartError(f'--work-dir {work_dir} holds an earlier quickstart; pass --overwrite to '
                                  f'replace it or choose another --work-dir')
        shutil.rmtree(work_dir)
    elif osp.exists(work_dir) and not osp.isdir(work_dir):
        raise QuickstartError(f'--work-dir {work_dir} is a file')
    os.makedirs(work_dir, exist_ok=True)
    open(osp.join(work_dir, MARKER), 'w').close()


# ----------------------------------------------------------------------------- data
def prepare_data(args, work_dir):
    """-> dict(name, seg (the dataset keys of a config), num_classes, crop)."""
    from mmengine.config import Config
    if args.dataset_config:
        if not osp.isfile(args.dataset_config):
            raise QuickstartError(f'--dataset-config {args.dataset_config} does not exist')
        cfg = Config.fromfile(args.dataset_config)
        missing = [k for k in ('train_dataloader', 'val_dataloader', 'val_evaluator') if k not in cfg]
        if missing:
            raise QuickstartError(f'--dataset-config {args.dataset_config} lacks {missing}')
        ds = cfg.train_dataloader.dataset
        train_dir = osp.join(*image_folder(cfg, 'train'))
        if not osp.isdir(train_dir):
            raise QuickstartError(f'--dataset-config {args.dataset_config}: training images {train_dir} '
                                  f'(train_dataloader.dataset.data_root + data_prefix.img_path) do not exist')
        num_classes = cfg.get('num_classes', None)
        if num_classes is None:
            import grass_mm  # noqa: F401
            from mmseg.registry import DATASETS
            from mmseg.utils import register_all_modules
            register_all_modules(init_default_scope=False)
            cls = DATASETS.get(ds.type)
            if cls is None:
                raise QuickstartError(f'--dataset-config {args.dataset_config}: unknown dataset type {ds.type!r}')
            num_classes = len(cls.METAINFO['classes'])
        crop = cfg.get('crop_size', (args.size, args.size))
        seg = {k: cfg[k] for k in DATASET_KEYS if k in cfg}
        seg.setdefault('test_dataloader', cfg.val_dataloader)
        seg.setdefault('test_evaluator', cfg.val_evaluator)
        name = ds.type[:-len('Dataset')] if ds.type.endswith('Dataset') else ds.type
        return dict(name=name, seg=seg, num_classes=num_classes, crop=tuple(crop))
    from grass_mm.datasets.converters import convert_dubai_aerial, write_vts
    if args.data:
        if not osp.isdir(args.data):
            raise QuickstartError(f'--data {args.data} is not a folder')
        if osp.isdir(osp.join(args.data, 'img_dir', 'train')):
            root = osp.abspath(args.data)
        elif glob.glob(osp.join(args.data, 'tile_*', 'images')):
            root = osp.abspath(osp.join(work_dir, 'data', 'dubai_aerial'))
            print(f'[data] converting the Dubai aerial data {args.data} -> {root}', flush=True)
            try:
                convert_dubai_aerial(args.data, root)
            except (FileNotFoundError, ValueError) as err:
                raise QuickstartError(f'--data {args.data}: {err}') from None
        else:
            raise QuickstartError(f'--data {args.data}: neither a converted root (img_dir/train) nor the raw '
                                  f'Kaggle layout (tile_N/images, tile_N/masks)')
        # configs/_base_/datasets/dubai.py, its resize and crop scaled to --size
        cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'dubai.py'))
        seg = {k: cfg[k] for k in DATASET_KEYS}
        s = args.size
        for key in ('train_dataloader', 'val_dataloader'):
            seg[key].dataset.data_root = root
            for t in seg[key].dataset.pipeline:
                if t.type in ('RandomResize', 'Resize'):
                    t.scale = (2 * s, 2 * s)
                elif t.type == 'RandomCrop':
                    t.crop_size = (s, s)
        seg['test_dataloader'] = seg['val_dataloader']
        return dict(name='Dubai', seg=seg, num_classes=6, crop=(s, s))
    root = osp.abspath(osp.join(work_dir, 'data', 'vts'))
    print(f'[data] writing VTS ({args.num_train} train + {args.num_val} val images, {args.size} px) '
          f'-> {root}', flush=True)
    write_vts(root, args.num_train, args.num_val, seed=args.seed, r_img=0.0, size=args.size)
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'vts_files.py'))
    seg = {k: cfg[k] for k in DATASET_KEYS}
    for k in ('train_dataloader', 'val_dataloader'):
        seg[k].dataset.data_root = root
    seg['test_dataloader'] = seg['val_dataloader']
    return dict(name='VTS', seg=seg, num_classes=2, crop=(args.size, args.size))


def image_folder(seg, split):
    """``(data_root, img_path prefix)`` of the ``{split}_dataloader`` dataset."""
    ds = seg[f'{split}_dataloader']['dataset']
    prefix = ds.get('data_prefix', {})
    return ds.get('data_root', '') or '', prefix.get('img_path', '') if isinstance(prefix, dict) else prefix


def split_images(seg, split):
    """Sorted image files of the ``{split}_dataloader`` dataset's image folder."""
    folder = osp.join(*image_folder(seg, split))
    return sorted(p for p in glob.glob(osp.join(folder, '**', '*'), recursive=True)
                  if p.lower().endswith(('.png', '.jpg', '.jpeg', '.tif', '.tiff')))


# ----------------------------------------------------------------------------- configs
def _loaders(cfg, workers):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg:
            cfg[key]['num_workers'] = workers
            cfg[key]['persistent_workers'] = workers > 0


def pretrain_config(method, args, data):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(QS_CONFIGS, f'{method.lower()}_r18_quickstart_vts.py'))
    n = args.pretrain_iters
    chans = CHANNELS[args.depth][-1]
    cfg.model.backbone.depth = args.depth
    cfg.model.neck.update(in_channels=chans, hid_channels=chans)
    ds = cfg.train_dataloader.dataset
    root, prefix = image_folder(data['seg'], 'train')
    ds.update(data_root=root, data_prefix=prefix, tile_size=args.size, stride=args.size)
    ds.pipeline[1].transforms[0][0].scale = args.view_size  # RandomResizedCrop of each view
    cfg.train_dataloader.batch_size = args.batch
    _loaders(cfg, args.workers)
    cfg.train_cfg.max_iters = n
    cfg.param_scheduler[0].update(T_max=n, end=n)
    cfg.default_hooks.checkpoint.interval = n
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.randomness = dict(seed=args.seed)
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] == 'GraSSWarmupHook':
            hook['warmup_iters'] = int(round(args.warmup_share * n))
    return cfg


def finetune_config(method, args, data, ckpt=None):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(QS_CONFIGS, f'{args.decoder}_r18_quickstart_vts.py'))
    for k, v in data['seg'].items():
        cfg[k] = v
    chans = CHANNELS[args.depth]
    nc = data['num_classes']
    cfg.num_classes = nc
    cfg.model.backbone.depth = args.depth
    cfg.model.data_preprocessor.size = data['crop']
    if args.decoder == 'fcn':
        cfg.model.decode_head.update(in_channels=chans[3], num_classes=nc)
    else:
        cfg.model.decode_head.update(in_channels=chans, num_classes=nc)
    cfg.model.auxiliary_head.update(in_channels=chans[2], num_classes=nc)
    cfg.model.backbone.init_cfg = None if ckpt is None else dict(
        type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    n = args.finetune_iters
    cfg.train_cfg.update(max_iters=n, val_interval=n)
    cfg.param_scheduler[0].end = n
    cfg.default_hooks.checkpoint.interval = n
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.train_dataloader.batch_size = args.seg_batch
    _loaders(cfg, args.workers)
    cfg.randomness = dict(seed=args.seed)
    cfg.grass_mm_meta = dict(method=method, dataset=data['name'])
    return cfg


# ----------------------------------------------------------------------------- running
class Steps:
    """Runs ordinary tool commands in subprocesses, shows their progress, records them."""

    LOG = re.compile(r' - mmengine - \w+ - (.*)$')
    KEEP = re.compile(r'^(Iter\(\w+\) \[\s*\d+/\d+\]\s+(?:lr: \S+\s+)?(?:eta: \S+)?)(?:.*?(loss: \S+))?'
                      r'|^(Iter\(\w+\) .*mIoU.*)$|^(Saving checkpoint.*)$')

    def __init__(self, work_dir, device, total):
        self.work_dir, self.total, self.done = work_dir, total, 0
        self.env = dict(os.environ)
        if device == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        self.env['PYTHONPATH'] = os.pathsep.join(filter(None, [REPO, self.env.get('PYTHONPATH')]))
        self.commands = osp.join(work_dir, 'commands.sh')
        with open(self.commands, 'w') as f:
            f.write('#!/usr/bin/env bash\n# The commands tools/quickstart.py ran, in order.\n'
                    f'set -e\ncd {shlex.quote(os.getcwd())}\n')
        self.start = time.time()

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

    def run(self, title, cmd, log):
        self.done += 1
        print(f'\n[{self.done}/{self.total}] {title}  ({time.time() - self.start:.0f} s so far)', flush=True)
        cwd = os.getcwd()
        rel = [osp.relpath(c, cwd) if osp.isabs(c) and c.startswith(cwd + os.sep) else c for c in cmd]
        line = ' '.join(['python'] + [shlex.quote(c) for c in rel[1:]])
        print(f'    $ {line}', flush=True)
        with open(self.commands, 'a') as f:
            f.write(line + '\n')
        os.makedirs(osp.dirname(log), exist_ok=True)
        with open(log, 'w') as out:
            proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, bufsize=1)
            tail = []
            for text in proc.stdout:
                out.write(text)
                tail = (tail + [text])[-30:]
                shown = self.progress(text)
                if shown:
                    print('    ' + shown, flush=True)
            rc = proc.wait()
        if rc:
            raise QuickstartError(f'step "{title}" failed (exit {rc}); full output in {log}; last lines:\n'
                                  + ''.join(tail))


def last_checkpoint(work_dir):
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise QuickstartError(f'{work_dir}: the run wrote no checkpoint (no last_checkpoint file)')
    with open(path) as f:
        ckpt = f.read().strip()
    return osp.abspath(ckpt)


def bar_chart(md_cells, methods, dataset, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    from grass_mm.analysis import METRICS
    names = list(METRICS)
    x = np.arange(len(names))
    w = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, m in enumerate(methods):
        vals = [md_cells[(m, dataset)][0][k] for k in names]
        bars = ax.bar(x + (i - (len(methods) - 1) / 2) * w, vals, w, label=m)
        ax.bar_label(bars, fmt='%.1f', fontsize=7)
    ax.set_xticks(x, names)
    ax.set_ylabel('%')
    ax.set_ylim(0, 100)
    ax.set_title(f'{dataset}: fine-tuning from each initialisation')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise QuickstartError('--device cuda, but torch sees no GPU')
    work_dir = osp.abspath(args.work_dir)
    prepare_work_dir(work_dir, args.overwrite)
    t0 = time.time()
    data = prepare_data(args, work_dir)
    val_imgs = split_images(data['seg'], 'val')
    if not val_imgs:
        raise QuickstartError('the validation set has no images')
    cfg_dir = osp.join(work_dir, 'configs')
    os.makedirs(cfg_dir)
    py = sys.executable
    steps = Steps(work_dir, args.device, total=2 + 2 * len(METHODS) + 1)

    # 2. pretraining, same budget and seed
    ckpts = {'random-init': None}
    pre_cfgs = {}
    for method in ('SimCLR', 'GraSS'):
        name = f'{method.lower()}_r{args.depth}_quickstart_{data["name"].lower()}'
        cfg = pretrain_config(method, args, data)
        path = osp.join(cfg_dir, name + '.py')
        cfg.dump(path)
        wd = osp.join(work_dir, 'pretrain', method.lower())
        steps.run(f'pretraining {method} (ResNet-{args.depth}, {args.pretrain_iters} iterations)',
                  [py, osp.join(TOOLS, 'train.py'), path, '--work-dir', wd], osp.join(wd, 'stdout.log'))
        ckpts[method] = last_checkpoint(wd)
        pre_cfgs[method] = path

    # 3.-4. fine-tuning from each initialisation, then evaluation with pictures
    runs = []
    n_val = len(val_imgs)
    show_interval = max(1, n_val // args.num_pictures)
    for method in METHODS:
        name = f'{args.decoder}_r{args.depth}_{method.lower()}_quickstart_{data["name"].lower()}'
        cfg = finetune_config(method, args, data, ckpts[method])
        path = osp.join(cfg_dir, name + '.py')
        cfg.dump(path)
        wd = osp.join(work_dir, 'finetune', method.lower())
        steps.run(f'fine-tuning {args.decoder.upper()} from {method} ({args.finetune_iters} iterations)',
                  [py, osp.join(TOOLS, 'train.py'), path, '--work-dir', wd], osp.join(wd, 'stdout.log'))
        show = osp.join(work_dir, 'pictures', 'predictions', method.lower())
        steps.run(f'evaluating {method} (IoUMetric) and drawing predictions',
                  [py, osp.join(TOOLS, 'test.py'), path, last_checkpoint(wd), '--work-dir', wd,
                   '--show-dir', show, '--show-interval', str(show_interval)], osp.join(wd, 'test_stdout.log'))
        runs.append(f'{method}@{data["name"]}={wd}')

    # Loss Attention Maps of the GraSS checkpoint on validation images (the loss needs >= 2 images)
    lam_imgs = val_imgs[:max(2, args.num_pictures)]
    if len(lam_imgs) < 2:
        lam_imgs = (lam_imgs + split_images(data['seg'], 'train'))[:max(2, args.num_pictures)]
    lam_dir = osp.join(work_dir, 'pictures', 'lam')
    lam_png = osp.join(work_dir, 'lam_dar.png')
    steps.run('Loss Attention Maps and DARs of the GraSS checkpoint',
              [py, osp.join(TOOLS, 'visualize_lam.py'), pre_cfgs['GraSS'], ckpts['GraSS'],
               *lam_imgs, '--out', lam_dir, '--grid', lam_png,
               '--size', str(args.size), '--device', args.device],
              osp.join(lam_dir, 'stdout.log'))

    # 5. the table
    from grass_mm.analysis import collect_results, write_report
    prefix = osp.join(work_dir, 'results')
    md, (methods, datasets, cells) = write_report(collect_results(runs), prefix, baselines=['random-init', 'SimCLR'])
    bar_chart(cells, methods, datasets[0], prefix + '.png')
    with open(osp.join(work_dir, 'README.md'), 'w') as f:
        f.write(f'# grass_mm quickstart on {data["name"]}\n\n{md}\n'
                f'Settings: ResNet-{args.depth}, {args.decoder.upper()}, pretraining {args.pretrain_iters} '
                f'iterations x {args.batch} images, fine-tuning {args.finetune_iters} iterations x '
                f'{args.seg_batch} images, {args.size} px, seed {args.seed}, device {args.device}.\n')
    print('\n' + md)
    preds = sorted(glob.glob(osp.join(work_dir, 'pictures', 'predictions', '**', '*.png'), recursive=True))
    print(f'done in {time.time() - t0:.0f} s. Written to {work_dir}:\n'
          f'  results.md, results.csv   the table (mIoU / OA = aAcc / mAcc, %; gains in points)\n'
          f'  results.png               bar chart of the table\n'
          f'  lam_dar.png               Loss Attention Maps + DAR boxes of the GraSS checkpoint '
          f'(one PNG per image in pictures/lam/)\n'
          f'  pictures/predictions/     {len(preds)} prediction pictures (ground truth | prediction, over the image)\n'
          f'  configs/, commands.sh     the configs and the exact commands that were run\n'
          f'  pretrain/, finetune/      mmengine work dirs (logs, checkpoints)')


if __name__ == '__main__':
    try:
        main()
    except QuickstartError as err:
        sys.exit(f'error: {err}')
