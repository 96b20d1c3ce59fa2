"""The command lines of the runner's tools: flags -> settings (the tools under ``tools/`` only call these).

Each parser's defaults are the settings dataclass's defaults, each flag's destination is the field of the
same name, and :func:`parse` turns the parsed arguments into the settings through
:meth:`~grass_mm.experiments.settings.StudySettings.from_dict` (which refuses a key that is no setting) and
:meth:`~grass_mm.experiments.settings.StudySettings.check` (whose one-line refusals become argparse errors:
usage, the message, exit code 2).
"""

import argparse
from typing import Optional, Sequence

from .settings import (
    CHANNELS,
    DECODERS,
    DEVICES,
    FINETUNE_OPTIMIZERS,
    FOLD_SCHEMES,
    NOISY_PAIR_METHODS,
    NOISY_PAIR_VIEWS,
    PROTOCOLS,
    NoisyPairsSettings,
    QuickstartSettings,
    SettingsError,
    StudySettings,
    SweepSettings,
)


def parse_fraction(text: str) -> float:
    """A label fraction in (0, 1] (argparse ``type``)."""
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'label fraction {text!r} is not a number') from None
    if not 0 < f <= 1:
        raise argparse.ArgumentTypeError(f'label fraction {text} is outside (0, 1]')
    return f


def _parser(description: Optional[str]) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_budget_args(p: argparse.ArgumentParser, d: SweepSettings) -> None:
    """Data, model and budget flags shared by the sweep and the quickstart (defaults: those of ``d``)."""
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        '--data',
        help='Dubai aerial data: raw Kaggle folder (tile_N/...) or converted root '
        '(default: the CC0 tiles shipped in grass_mm/demo/dubai_aerial)',
    )
    src.add_argument('--dataset-config', help='an mmseg dataset config (train/val dataloaders, evaluator)')
    p.add_argument(
        '--device', default=d.device, choices=DEVICES, help='cpu hides the GPUs from the runs; cuda needs a visible GPU'
    )
    p.add_argument('--depth', type=int, default=d.depth, choices=sorted(CHANNELS), help='ResNet depth')
    p.add_argument('--decoder', default=d.decoder, choices=DECODERS)
    p.add_argument('--pretrain-iters', type=int, default=d.pretrain_iters, help='iterations of each pretraining')
    p.add_argument(
        '--warmup-share',
        type=float,
        default=d.warmup_share,
        help='share of the GraSS iterations spent in the SimCLR warm-up',
    )
    p.add_argument('--finetune-iters', type=int, default=d.finetune_iters, help='iterations of each fine-tuning')
    p.add_argument(
        '--finetune-optimizer',
        default=d.finetune_optimizer,
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
        default=d.backbone_lr_mult,
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
        default=d.probe_iters,
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
    p.add_argument('--batch', type=int, default=d.batch, help='pretraining images per step (2 views each)')
    p.add_argument('--seg-batch', type=int, default=d.seg_batch, help='fine-tuning images per step')
    p.add_argument(
        '--size', type=int, default=d.size, help='pretraining tile size and segmentation crop size (VTS: image size)'
    )
    p.add_argument('--view-size', type=int, default=d.view_size, help='pretraining view size')
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
    p.add_argument('--workers', type=int, default=d.workers, help='dataloader workers')
    p.add_argument(
        '--reuse-pretraining',
        metavar='SWEEP_DIR',
        help='take the pretraining checkpoints of an earlier sweep with the same pretraining settings '
        '(fine-tuning ablations without pretraining again)',
    )


def add_plan_args(p: argparse.ArgumentParser, d, fractions_help: str, protocols_help: str) -> None:
    """``--fractions`` and ``--protocols`` of a fine-tuning plan, with the defaults of the settings ``d``."""
    p.add_argument('--fractions', nargs='+', type=parse_fraction, default=d.fractions, help=fractions_help)
    p.add_argument('--protocols', nargs='+', default=d.protocols, choices=PROTOCOLS, help=protocols_help)


def sweep_parser(description: Optional[str] = None) -> argparse.ArgumentParser:
    """The flags of ``tools/experiments/sweep.py``."""
    d = SweepSettings()
    p = _parser(description)
    p.add_argument(
        '--work-dir',
        default=d.work_dir,
        help='output folder: new, empty, or an earlier sweep with the same settings (resumed)',
    )
    p.add_argument(
        '--methods',
        nargs='+',
        default=d.methods,
        help='random-init, SimCLR, GraSS and any NAME of --pretrain-config',
    )
    add_plan_args(
        p,
        d,
        fractions_help='label fractions in (0, 1] of the training set (seeded random subsets)',
        protocols_help='linear (1x1 conv on the frozen encoder, BN frozen), frozen (FCN/UPerNet head on the frozen '
        'encoder) and/or full fine-tuning',
    )
    p.add_argument(
        '--folds',
        default=d.folds,
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
    p.add_argument('--seeds', nargs='+', type=int, default=d.seeds)
    p.add_argument('--confidence', type=float, default=d.confidence, help='confidence level of the intervals')
    p.add_argument(
        '--report-only',
        action='store_true',
        help='run nothing: write the report of the finished runs among the requested ones',
    )
    add_budget_args(p, d)
    return p


def quickstart_parser(description: Optional[str] = None) -> argparse.ArgumentParser:
    """The flags of ``tools/quickstart.py``."""
    d = QuickstartSettings()
    p = _parser(description)
    p.add_argument('--work-dir', default=d.work_dir, help='output folder (must be new or empty)')
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a WORK_DIR that an earlier quickstart created (never any other folder)',
    )
    p.add_argument(
        '--vts', action='store_true', help='the synthetic Voronoi-texture set (VTS) instead of the Dubai imagery'
    )
    add_budget_args(p, d)
    add_plan_args(
        p,
        d,
        fractions_help='label fractions of the training images (seeded random subsets)',
        protocols_help='linear probe (1x1 conv, frozen encoder), frozen encoder with the FCN/UPerNet head, full '
        'fine-tuning',
    )
    p.add_argument('--seeds', nargs='+', type=int, default=d.seeds, help='seeds (pretraining and fine-tuning)')
    p.add_argument('--num-train', type=int, default=d.num_train, help='VTS training images')
    p.add_argument('--num-val', type=int, default=d.num_val, help='VTS validation images')
    p.add_argument(
        '--num-pictures', type=int, default=d.num_pictures, help='validation images drawn (predictions, LAM)'
    )
    return p


def noisy_pairs_parser(description: Optional[str] = None) -> argparse.ArgumentParser:
    """The flags of ``tools/experiments/noisy_pairs.py``."""
    d = NoisyPairsSettings()
    p = _parser(description)
    p.add_argument(
        '--out',
        '--work-dir',
        dest='work_dir',
        default=d.work_dir,
        help='output folder: new, empty, or an earlier study with the same budget flags (resumed)',
    )
    p.add_argument('--methods', nargs='+', default=d.methods, choices=NOISY_PAIR_METHODS)
    p.add_argument('--r-img', nargs='+', type=float, default=d.r_img, help='noise levels in [0, 1]')
    p.add_argument(
        '--noisy-share',
        nargs='+',
        type=float,
        default=d.noisy_share,
        help='shares in [0, 1] of pairs using the noisy twin (else the same image twice)',
    )
    p.add_argument('--no-baseline', action='store_true', help='skip the random-init row (the floor)')
    p.add_argument('--size', type=int, default=d.size, help='VTS image size (pretraining views and segmentation)')
    p.add_argument('--depth', type=int, default=d.depth, choices=sorted(CHANNELS), help='ResNet depth')
    p.add_argument('--base-channels', type=int, default=d.base_channels, help='ResNet width (64 = standard)')
    p.add_argument('--batch', type=int, default=d.batch, help='pretraining pairs per step')
    p.add_argument('--pretrain-iters', type=int, default=d.pretrain_iters)
    p.add_argument('--lr', type=float, default=d.lr, help='SGD learning rate of the pretraining (cosine decay)')
    p.add_argument(
        '--warmup-share',
        type=float,
        default=d.warmup_share,
        help='share of the GraSS iterations spent in the SimCLR warm-up',
    )
    p.add_argument(
        '--views',
        default=d.views,
        choices=NOISY_PAIR_VIEWS,
        help='vts: the pair views differ by crop / flip and the noisy twin only (no photometric jitter: VTS classes '
        'are grey textures told apart by local contrast, which colour jitter and blur teach the encoder to ignore); '
        'config: the photometric augmentation of the method config too',
    )
    p.add_argument('--eval-iters', type=int, default=d.eval_iters, help='FCN training iterations of the evaluation')
    p.add_argument('--eval-batch', type=int, default=d.eval_batch, help='FCN training images per step')
    p.add_argument(
        '--eval-lr', type=float, default=d.eval_lr, help='SGD learning rate of the FCN training (poly decay)'
    )
    p.add_argument('--eval-train', type=int, default=d.eval_train, help='labelled VTS images for the FCN training')
    p.add_argument('--eval-test', type=int, default=d.eval_test, help='VTS test images for IoUMetric')
    p.add_argument(
        '--floor-margin', type=float, default=d.floor_margin, help='mIoU points above the floor that count as a gain'
    )
    p.add_argument('--finetune', action='store_true', help='full fine-tuning instead of the frozen encoder')
    p.add_argument('--device', default=d.device, choices=DEVICES, help='cpu hides the GPUs from the runs')
    p.add_argument('--seed', type=int, default=d.seed, help='seed of the pretraining, the FCN training and the data')
    p.add_argument('--workers', type=int, default=d.workers, help='dataloader workers of each run')
    p.add_argument('--no-plot', action='store_true')
    return p


def parse(cls: type, parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None) -> StudySettings:
    """``argv`` -> checked settings of type ``cls``; a refused setting ends as ``parser.error`` (exit 2)."""
    args = parser.parse_args(argv)
    try:
        settings = cls.from_dict(vars(args), source='command line')
        settings.check()
    except SettingsError as err:
        parser.error(str(err))
    return settings


def parse_sweep(argv=None, description: Optional[str] = None) -> SweepSettings:
    return parse(SweepSettings, sweep_parser(description), argv)


def parse_quickstart(argv=None, description: Optional[str] = None) -> QuickstartSettings:
    return parse(QuickstartSettings, quickstart_parser(description), argv)


def parse_noisy_pairs(argv=None, description: Optional[str] = None) -> NoisyPairsSettings:
    return parse(NoisyPairsSettings, noisy_pairs_parser(description), argv)
