#!/usr/bin/env python
"""Evaluate a checkpoint (mmseg IoUMetric: mIoU, mAcc, aAcc = OA) and optionally save pictures.

python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--out DIR] [--cfg-options ...]
bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [args]
"""

import argparse
import copy
import os.path as osp

from grass_mm.utils.cli import add_common_args, fail, load_config, run  # first: filters the third-party warnings


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--show', action='store_true', help='show prediction results in a window')
    parser.add_argument('--show-dir', help='folder where pictures of the predictions are saved')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of show (s)')
    parser.add_argument('--show-interval', type=int, default=1, help='draw every N-th test image (default: all)')
    parser.add_argument('--out', help='folder where raw prediction masks are saved (mmseg format_only)')
    parser.add_argument('--tta', action='store_true', help='test time augmentation')
    add_common_args(parser)
    return parser.parse_args()


def enable_visualization(cfg, args):
    """Turn on the visualization hook so that predictions are drawn (mmseg convention)."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        fail(
            "--show/--show-dir need a 'visualization' hook in default_hooks "
            "(e.g. visualization=dict(type='SegVisualizationHook'))"
        )
    hooks.visualization['draw'] = True
    hooks.visualization['interval'] = args.show_interval
    if args.show:
        hooks.visualization['show'] = True
        hooks.visualization['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
        cfg.visualizer.setdefault('vis_backends', [dict(type='LocalVisBackend')])
        for backend in cfg.visualizer['vis_backends']:
            backend['save_dir'] = args.show_dir


def leaf_datasets(dataset):
    """The dataset configs that load images: inside ConcatDataset (``datasets``) and wrappers (``dataset``)."""
    if isinstance(dataset.get('datasets'), (list, tuple)):
        return [leaf for d in dataset['datasets'] for leaf in leaf_datasets(d)]
    if isinstance(dataset.get('dataset'), dict):
        return leaf_datasets(dataset['dataset'])
    return [dataset]


def enable_tta(cfg, config_path):
    """Test with the config's ``tta_pipeline`` and wrap the model in its ``tta_model`` (mmseg convention)."""
    missing = [key for key in ('tta_pipeline', 'tta_model') if not cfg.get(key)]
    if missing:
        fail(
            f"--tta needs {' and '.join(repr(k) for k in missing)} in config '{config_path}' (test-time "
            "augmentation: a tta_pipeline as in mmseg::_base_/datasets/potsdam.py, tta_model=dict(type='SegTTAModel'))"
        )
    if cfg.get('test_dataloader'):
        for dataset in leaf_datasets(cfg.test_dataloader.dataset):
            dataset['pipeline'] = copy.deepcopy(cfg.tta_pipeline)
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def check_checkpoint(path):
    """The checkpoint exists and loads (grass_mm's safe loader), before the runner's ~400 start-up lines."""
    if not osp.isfile(path):
        fail(f"checkpoint file '{path}' does not exist")
    from grass_mm.runtime import CheckpointError, safe_torch_load

    try:
        ckpt = safe_torch_load(path, map_location='cpu')
    except CheckpointError as err:
        fail(str(err))
    if not isinstance(ckpt, dict) or not ckpt:
        fail(f"checkpoint file '{path}' holds no state_dict (a {type(ckpt).__name__})")
    del ckpt


def main():
    args = parse_args()
    cfg = load_config(args)
    check_checkpoint(args.checkpoint)
    for flag, path in (('--show-dir', args.show_dir), ('--out', args.out)):
        if path and osp.exists(path) and not osp.isdir(path):
            fail(f"{flag} '{path}' is a file, not a folder")
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg, args.config)
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    run(cfg, args.launcher, mode='test')


if __name__ == '__main__':
    main()
