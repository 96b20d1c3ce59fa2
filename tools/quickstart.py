#!/usr/bin/env python
"""The main job in one command: pretrain (SimCLR and GraSS) -> fine-tune -> evaluate -> table.

    python tools/quickstart.py                                   # real Dubai imagery (shipped), CPU, ~10 minutes
    python tools/quickstart.py --data ../shared/data/dubai_aerial --work-dir work_dirs/qs_dubai
    python tools/quickstart.py --dataset-config configs/_base_/datasets/potsdam.py --size 256
    python tools/quickstart.py --vts                             # the synthetic Voronoi-texture set instead
    python tools/quickstart.py --device cuda --depth 50 --pretrain-iters 5000 --finetune-iters 8000 \\
        --batch 64 --seg-batch 16 --size 256 --seeds 0 1 2

A small preset of the experiment runner ``tools/experiments/sweep.py`` (same configs, same steps,
same report): each step is an ordinary config run by ``tools/train.py`` / ``tools/test.py`` in a
subprocess; the configs are written to ``WORK_DIR/configs/`` and the exact commands to
``WORK_DIR/commands.sh``, so every step can be rerun by hand or with ``mim train``.

1. data: by default the CC0 Dubai aerial tiles shipped in ``grass_mm/demo/dubai_aerial`` (tile 6
   held out for validation), or ``--data`` / ``--dataset-config`` / ``--vts``;
2. pretraining with SimCLR and with GraSS on the training images: same backbone, data, budget
   and seed (``configs/quickstart/{simclr,grass}_r18_quickstart_vts.py``);
3. fine-tuning FCN (or UPerNet) from each checkpoint and from random initialisation: a linear probe
   (1x1 conv on the frozen encoder), the FCN head on the frozen encoder, and full fine-tuning;

The default recipe and budget are those of the committed cross-validation protocol
(``docs/protocols/cv_dubai.md``: 120 pretraining and 40 fine-tuning iterations, one data-loading worker); the
default run is its fold ``tile_6`` for random init, SimCLR and GraSS at 100% of the labels.
4. evaluation with mmseg's IoUMetric, prediction pictures, a Loss Attention Map picture of the
   GraSS checkpoint, and ``results.md`` / ``results.csv`` / ``results.png``; the report also
   prints each pretraining loss against its chance level ln(2N-1).
"""

import argparse
import glob
import os
import os.path as osp
import shutil
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'experiments'))
import _cli  # noqa: E402,F401  (first: filters the third-party warnings of the imports below)

# isort: split
import sweep  # noqa: E402  (tools/experiments/sweep.py: the experiment runner)
from sweep import (  # noqa: E402,F401
    CHANNELS,
    DATASET_KEYS,
    REPO,
    TOOLS,
    SweepError,
    finetune_config,
    image_folder,
    pretrain_config,
    split_images,
)

TOOL = 'quickstart'
MARKER = f'.grass_mm_{TOOL}'
#: what a quickstart writes into its work dir; ``--overwrite`` removes these and nothing else
OUTPUTS = (
    'configs',
    'commands.sh',
    'pretrain',
    'finetune',
    'pictures',
    'data',
    'results.md',
    'results.csv',
    'results.png',
    'lam_dar.png',
    'README.md',
)
METHODS = ('random-init', 'SimCLR', 'GraSS')
QuickstartError = SweepError
#: the default budget: about 15 minutes on 2 CPU cores (measured figures in README.md)
#: the budget of the committed cross-validation protocol (docs/protocols/cv_dubai.md), one fold
QS_PRETRAIN_ITERS, QS_FINETUNE_ITERS, QS_FRACTIONS, QS_SEEDS, QS_WORKERS = 120, 40, [1.0], [0], 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/quickstart', help='output folder (must be new or empty)')
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a WORK_DIR that an earlier quickstart created (never any other folder)',
    )
    p.add_argument(
        '--vts', action='store_true', help='the synthetic Voronoi-texture set (VTS) instead of the Dubai imagery'
    )
    sweep.add_budget_args(p, pretrain_iters=QS_PRETRAIN_ITERS, finetune_iters=QS_FINETUNE_ITERS)
    p.set_defaults(workers=QS_WORKERS)
    p.add_argument(
        '--fractions',
        nargs='+',
        type=sweep.parse_fraction,
        default=QS_FRACTIONS,
        help='label fractions of the training images (seeded random subsets)',
    )
    p.add_argument(
        '--protocols',
        nargs='+',
        default=list(sweep.PROTOCOLS),
        choices=sweep.PROTOCOLS,
        help='linear probe (1x1 conv, frozen encoder), frozen encoder with the FCN/UPerNet head, full fine-tuning',
    )
    p.add_argument('--seeds', nargs='+', type=int, default=QS_SEEDS, help='seeds (pretraining and fine-tuning)')
    p.add_argument('--num-train', type=int, default=256, help='VTS training images')
    p.add_argument('--num-val', type=int, default=32, help='VTS validation images')
    p.add_argument('--num-pictures', type=int, default=4, help='validation images drawn (predictions, LAM)')
    args = p.parse_args(argv)
    sweep.check_budget_args(p, args)
    for key in ('num_train', 'num_val', 'num_pictures'):
        if getattr(args, key) <= 0:
            p.error(f'--{key.replace("_", "-")} must be positive, got {getattr(args, key)}')
    if args.vts and (args.data or args.dataset_config):
        p.error('--vts cannot be combined with --data or --dataset-config')
    args.methods = list(METHODS)
    args.confidence = 0.95
    sweep.check_plan_args(p, args)
    return args


# ----------------------------------------------------------------------------- work dir
def check_work_dir(work_dir: str, overwrite: bool) -> bool:
    """A new or empty folder, or an earlier quickstart's folder with ``--overwrite`` (returns True);
    writes nothing."""
    from grass_mm.runtime.outputs import OutputError, check_output_dir

    try:
        return check_output_dir(work_dir, TOOL, overwrite, '--work-dir')
    except OutputError as err:
        raise QuickstartError(str(err)) from None


def _inside(path: str, folder: str) -> bool:
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_inputs_kept(work_dir: str, inputs) -> None:
    """Refuse ``--overwrite`` when an input lies inside what it would remove (e.g. ``--data`` in the
    earlier quickstart's ``data/``)."""
    for path in filter(None, inputs):
        for name in OUTPUTS:
            if _inside(path, osp.join(work_dir, name)):
                raise QuickstartError(
                    f'{path} lies in {osp.join(work_dir, name)}, which --overwrite would remove; '
                    f'copy it elsewhere or choose another --work-dir (nothing was changed)'
                )


def prepare_work_dir(work_dir: str, overwrite: bool) -> None:
    """Make ``work_dir`` ready: remove an earlier quickstart's outputs (``--overwrite``; the user's
    other files stay) and mark the folder. Call only after every input was checked."""
    from grass_mm.runtime.outputs import remove_owned, write_marker

    if check_work_dir(work_dir, overwrite):
        remove_owned(work_dir, TOOL, OUTPUTS)
    os.makedirs(work_dir, exist_ok=True)
    write_marker(work_dir, TOOL, OUTPUTS)


def check_dataset_config(args) -> None:
    """``--dataset-config`` reads (one line naming the file if not); the parse is cached for the runner."""
    if not args.dataset_config or not osp.isfile(args.dataset_config):
        return  # a missing file: the runner's own message
    try:
        sweep.load_config(args.dataset_config)
    except Exception as err:  # noqa: BLE001  (syntax errors, missing _base_ files, ...)
        first = (str(err).strip().splitlines() or [''])[0]
        raise QuickstartError(
            f"cannot read --dataset-config '{args.dataset_config}': {type(err).__name__}: {first}"
        ) from None


def data_roots(data) -> list:
    """The folders the dataloaders of ``data`` read."""
    return [
        d.get('data_root')
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        if data['seg'].get(key)
        for d in [data['seg'][key].get('dataset', {})]
    ]


def prepare_inputs(args, work_dir: str) -> bool:
    """Check every input, then (and only then) set up ``work_dir``; returns ``earlier`` (an earlier
    quickstart's outputs were replaced).

    Data that must be converted or generated is written into a temporary sibling of ``work_dir``
    first and moved in at the end, so a bad input leaves ``work_dir`` exactly as it was.
    """
    from grass_mm.runtime.outputs import staged_dir

    work_dir = osp.abspath(work_dir)
    earlier = check_work_dir(work_dir, args.overwrite)
    check_dataset_config(args)
    if args.reuse_pretraining:
        sweep.check_reuse(args)
    with staged_dir(work_dir) as stage:
        data = prepare_data(args, stage)
        sweep.check_backbones(args, data)
        if not split_images(data['seg'], 'val'):
            raise QuickstartError('the validation set has no images')
        if earlier:
            roots = [r for r in data_roots(data) if r and not _inside(r, stage)]
            check_inputs_kept(work_dir, [args.data, args.dataset_config, args.reuse_pretraining] + roots)
    try:
        prepare_work_dir(work_dir, args.overwrite)
        for name in os.listdir(stage):
            os.rename(osp.join(stage, name), osp.join(work_dir, name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return earlier


# ----------------------------------------------------------------------------- data
def prepare_data(args, work_dir):
    """-> dict(name, seg (the dataset keys of a config), num_classes, crop); VTS is written here."""
    if not args.vts:
        return sweep.prepare_data(args, work_dir)
    from mmengine.config import Config

    from grass_mm.datasets.converters import write_vts

    root = osp.abspath(osp.join(work_dir, 'data', 'vts'))
    if not osp.isdir(osp.join(root, 'img_dir')):  # written by prepare_inputs' check already
        print(
            f'[data] writing VTS ({args.num_train} train + {args.num_val} val images, {args.size} px) -> {root}',
            flush=True,
        )
        write_vts(root, args.num_train, args.num_val, seed=args.seeds[0], r_img=0.0, size=args.size, progress=False)
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'vts_files.py'))
    seg = {k: cfg[k] for k in DATASET_KEYS}
    for k in ('train_dataloader', 'val_dataloader'):
        seg[k].dataset.data_root = root
    seg['test_dataloader'] = seg['val_dataloader']
    return dict(name='VTS', seg=seg, num_classes=2, crop=(args.size, args.size))


# ----------------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    if args.device == 'cuda':
        import torch

        if not torch.cuda.is_available():
            raise QuickstartError('--device cuda, but torch sees no GPU')
    work_dir = osp.abspath(args.work_dir)
    t0 = time.time()
    if prepare_inputs(args, work_dir):
        print(f'[quickstart] replaced the outputs of an earlier quickstart in {work_dir}', flush=True)
    data = prepare_data(args, work_dir)  # the converted data now lies in work_dir: nothing is written
    val_imgs = split_images(data['seg'], 'val')
    py = sys.executable

    # 2.-4. pretraining, fine-tuning and evaluation of every (method, protocol, fraction, seed); the runs with the
    # most labels (first seed, full fine-tuning if run) draw their validation predictions
    protocol = 'full' if 'full' in args.protocols else args.protocols[0]
    pictures = dict(
        key=(protocol, max(args.fractions), args.seeds[0]),
        interval=max(1, len(val_imgs) // args.num_pictures),
    )
    records, pretrain, steps = sweep.run_sweep(args, work_dir, data, steps_extra=1, pictures=pictures)
    seed = args.seeds[0]
    for r in records:
        if (r['protocol'], r['fraction'], r['seed']) == pictures['key']:
            show = osp.join(work_dir, 'pictures', 'predictions', r['method'].lower())
            os.makedirs(show, exist_ok=True)
            for png in glob.glob(osp.join(r['work_dir'], '*', 'vis_data', 'vis_image', '*.png')):
                shutil.copy(png, show)

    # Loss Attention Maps of the GraSS checkpoint on validation images (the loss needs >= 2 images)
    lam_imgs = val_imgs[: max(2, args.num_pictures)]
    if len(lam_imgs) < 2:
        lam_imgs = (lam_imgs + split_images(data['seg'], 'train'))[: max(2, args.num_pictures)]
    lam_dir = osp.join(work_dir, 'pictures', 'lam')
    grass_cfg, grass_ckpt = pretrain[('GraSS', seed)]
    steps.run(
        'Loss Attention Maps and DARs of the GraSS checkpoint',
        [
            py,
            osp.join(TOOLS, 'visualize_lam.py'),
            grass_cfg,
            grass_ckpt,
            *lam_imgs,
            '--out',
            lam_dir,
            '--grid',
            osp.join(work_dir, 'lam_dar.png'),
            '--size',
            str(args.size),
            '--device',
            args.device,
        ],
        osp.join(lam_dir, 'stdout.log'),
        'test',
    )

    # 5. the table
    title = f'{data["name"]}, {args.decoder.upper()}-R{args.depth}'
    md = sweep.write_outputs(records, work_dir, args, pretrain, title=title)
    with open(osp.join(work_dir, 'README.md'), 'w') as f:
        f.write(
            f'# grass_mm quickstart on {data["name"]}\n\n{md}\n'
            f'Settings: ResNet-{args.depth}, {args.decoder.upper()}, pretraining {args.pretrain_iters} '
            f'iterations x {args.batch} images, fine-tuning {args.finetune_iters} iterations x '
            f'{args.seg_batch} images, {args.size} px, seeds {args.seeds}, label fractions '
            f'{args.fractions}, device {args.device}.\n'
        )
    print('\n' + md)
    preds = sorted(glob.glob(osp.join(work_dir, 'pictures', 'predictions', '**', '*.png'), recursive=True))
    print(
        f'done in {time.time() - t0:.0f} s. Written to {work_dir}:\n'
        f'  results.md, results.csv   mIoU / OA = aAcc / mAcc (%) per run (mean ± 95% interval with several seeds),\n'
        f'                            paired gains over random init and GraSS - SimCLR, pretraining losses\n'
        f'  results.png               mIoU vs label fraction, one panel per protocol\n'
        f'  lam_dar.png               Loss Attention Maps + DAR boxes of the GraSS checkpoint '
        f'(one PNG per image in pictures/lam/)\n'
        f'  pictures/predictions/     {len(preds)} prediction pictures (ground truth | prediction, over the image)\n'
        f'  configs/, commands.sh     the configs and the exact commands that were run\n'
        f'  pretrain/, finetune/      mmengine work dirs (logs, checkpoints)'
    )


if __name__ == '__main__':
    try:
        main()
    except QuickstartError as err:
        sys.exit(f'error: {err}')
