"""Start-up of the command line tools: quiet third-party warnings, config loading, one-line errors.

The entry points (``tools/*.py``, also run by ``mim train grass_mm`` / ``mim test grass_mm`` from the
installed ``grass_mm/.mim/tools``) import this module before anything else of theirs. Importing it
filters the deprecation warnings that mmengine, mmcv, mmseg and mmpretrain trigger (see
:data:`THIRD_PARTY_WARNINGS`): the filters are installed by the tools' start-up, never by the rest
of the library, which does not import this module. A user error ends with :func:`fail`: one line
``error: ...`` on stderr naming the file, key or value, and a non-zero exit.
"""

import argparse
import os
import os.path as osp
import sys
import warnings

from mmengine.config import DictAction

#: ``(message regex, category)`` of the deprecation warnings that the OpenMMLab packages print on every
#: start (importing mmengine/mmcv loads ``pkg_resources``) or run (mmseg's own heads and stock pipelines)
THIRD_PARTY_WARNINGS = (
    (r'pkg_resources is deprecated', UserWarning),
    (r'.*pkg_resources', DeprecationWarning),
    (r'``build_loss`` would be deprecated', UserWarning),
    (r'`reduce_zero_label` will be deprecated', UserWarning),
)


def quiet_third_party_warnings() -> None:
    """Hide the third-party deprecation noise of the tools' imports (see :data:`THIRD_PARTY_WARNINGS`)."""
    for message, category in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)


# the tools' start-up: importing this module installs the filters (the library never imports it)
quiet_third_party_warnings()


def fail(msg: str, code: int = 2):
    """Print one clear line and exit before anything starts."""
    print(f'error: {msg}', file=sys.stderr)
    sys.exit(code)


def user_errors() -> tuple:
    """The exception types that mean a user error (a file, key or value to fix): ``OSError``
    (missing files, taken outputs), ``ValueError`` (bad values, config checks) and the checkpoint
    errors of :mod:`grass_mm.runtime`."""
    from grass_mm.datasets.rs_io import CorruptImageError
    from grass_mm.runtime import CheckpointError

    return (OSError, ValueError, CheckpointError, CorruptImageError)


def run_main(main, *args) -> None:
    """Call ``main(*args)``; a user error (:func:`user_errors`) ends in one line and exit 1."""
    try:
        main(*args)
    except user_errors() as err:
        lines = str(err).strip().splitlines()
        fail(lines[0] if lines else type(err).__name__, code=1)


def load_grass(config: str, checkpoint=None):
    """The GraSS model of ``config`` (CPU, mmpretrain scope) with the weights of ``checkpoint``
    (None or ``'none'``: random); every user error raises one line naming the file."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS

    from grass_mm.runtime import CheckpointError
    from grass_mm.runtime.config_check import model_class, read_config

    cfg = read_config(config)
    cls = model_class(cfg, 'mmpretrain')
    if cls is None or not hasattr(cls, 'guided_crops'):
        name = cfg.get('model', {}).get('type') if isinstance(cfg.get('model'), dict) else None
        raise ValueError(f"config '{config}': model type {name!r} is not GraSS (give a GraSS pretraining config)")
    checkpoint = None if checkpoint in (None, '') or checkpoint.lower() == 'none' else checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f"checkpoint file '{checkpoint}' does not exist")
    init_default_scope('mmpretrain')
    if cfg.get('data_preprocessor') is not None:
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        try:
            load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
        except CheckpointError:
            raise  # the safe loader's own line (missing, corrupt or refused file)
        except (RuntimeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"checkpoint '{checkpoint}' does not load into {cfg.model.type}: {err}") from None
    return cfg, model


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the options that ``train.py`` and ``test.py`` share: ``--work-dir``, ``--cfg-options``,
    ``--launcher``, ``--trust-checkpoint`` and the ``--local-rank`` of ``torch.distributed.launch``."""
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


def load_config(args):
    """The config of ``args.config`` with ``--cfg-options``, ``--launcher`` and ``--work-dir`` applied.

    ``grass_mm`` is imported first: it registers its modules and makes ``grass_mm::`` base configs
    resolvable. A missing file, an unknown ``--cfg-options`` key or a wrong value ends in one line.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        fail(f"config file '{args.config}' does not exist")
    if args.work_dir is not None and osp.exists(args.work_dir) and not osp.isdir(args.work_dir):
        fail(f"--work-dir '{args.work_dir}' is a file, not a folder")
    import grass_mm  # noqa: F401  (registers modules, installs the safe checkpoint loader)
    from grass_mm.runtime import ConfigCheckError, check_cfg_options, read_config, trust_checkpoint

    try:
        cfg = read_config(args.config)
        if args.cfg_options is not None:
            check_cfg_options(cfg, args.cfg_options, args.config)
            cfg.merge_from_dict(args.cfg_options)
    except ConfigCheckError as err:
        fail(str(err))
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # what merge_from_dict raises
        fail(f'--cfg-options: cannot merge into {args.config}: {type(err).__name__}: {err}')
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
    """The runner of ``cfg``: mmengine's :class:`Runner`, or the ``runner_type`` of the config."""
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
