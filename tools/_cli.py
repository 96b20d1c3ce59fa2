"""Shared start-up of tools/train.py and tools/test.py: config loading and one-line errors."""

import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def fail(msg: str, code: int = 2):
    """Print one clear line and exit before anything starts."""
    print(f'error: {msg}', file=sys.stderr)
    sys.exit(code)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='folder for logs and checkpoints (default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100 model.backbone.depth=18',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none', help='job launcher')
    parser.add_argument(
        '--trust-checkpoint',
        action='append',
        default=[],
        metavar='PATH',
        help='opt in to fully unpickling this checkpoint (weights_only=False); only for a file you trust that '
        "pickles objects beyond tensors, numpy and mmengine's message hub (stock mmengine/mmseg/mmpretrain "
        'checkpoints load without it). Repeatable. Also: GRASS_MM_TRUSTED_CHECKPOINTS=PATH[:PATH].',
    )
    # torch.distributed.launch passes --local_rank / --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args) -> Config:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        fail(f"config file '{args.config}' does not exist")
    import grass_mm  # noqa: F401  (registers modules, installs the safe checkpoint loader)
    from grass_mm.runtime import trust_checkpoint

    try:
        cfg = Config.fromfile(args.config)
    except Exception as err:  # syntax errors, missing _base_ files, ...
        fail(f"cannot read config '{args.config}': {type(err).__name__}: {err}".splitlines()[0])
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    trusted = list(args.trust_checkpoint) + list(cfg.get('trusted_checkpoints', []) or [])
    if trusted:
        trust_checkpoint(trusted)
    return cfg


def build_runner(cfg):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def run(cfg, launcher: str, mode: str) -> None:
    """Check the config, prepare CPU distributed if needed, build the runner, train or test.

    Errors a user can fix (config keys, missing, refused or corrupt checkpoints) end in one line.
    """
    from grass_mm.datasets.rs_io import CorruptImageError
    from grass_mm.runtime import CheckpointError, ConfigCheckError, check_config, setup_cpu_distributed

    try:
        check_config(cfg, mode=mode)
        setup_cpu_distributed(cfg, launcher)
        runner = build_runner(cfg)
        runner.train() if mode == 'train' else runner.test()
    except (ConfigCheckError, CheckpointError, CorruptImageError, FileNotFoundError) as err:
        fail(str(err))
