"""The settings of the experiment runner: one dataclass per study, instead of an argparse namespace.

* :class:`StudySettings`: what every study has, the output folder and the pretraining budget (device,
  ResNet depth, image size, batch, iterations, GraSS warm-up share, dataloader workers);
* :class:`SweepSettings` (``tools/experiments/sweep.py``): pretraining methods x label fractions x evaluation
  protocols x seeds, optionally x leave-one-tile-out folds;
* :class:`QuickstartSettings` (``tools/quickstart.py``): a preset of the sweep with its own work-dir rules and
  the VTS data;
* :class:`NoisyPairsSettings` (``tools/experiments/noisy_pairs.py``): noise levels x noisy shares x methods.

Each field is the command-line flag of the same name (``finetune_iters`` <-> ``--finetune-iters``), and
:meth:`StudySettings.check` refuses what the tools refuse, with the same one-line messages.

A study's work dir records the settings that change what a finished run means (``MARKER_KEYS``) in a JSON
marker (:meth:`StudySettings.marker`); a resumed study must have the same ones, and
:meth:`StudySettings.from_marker` reads them back. The marker is the flat JSON object the runner has always
written, so work dirs of earlier versions still resume and report: a key they lack reads as its value from
before it existed (``LEGACY_DEFAULTS``), and a key that is no setting is refused, naming it.

Example:
    >>> s = SweepSettings(methods=['random-init', 'GraSS'], seeds=[0], pretrain_iters=300)
    >>> s.check()  # doctest: +SKIP
    >>> SweepSettings.from_marker(s.marker()).pretrain_iters
    300
"""

import dataclasses
import difflib
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import ClassVar, Dict, List, Optional, Sequence


class SweepError(RuntimeError):
    """A user-fixable problem (bad setting, data, failed step); the tools print it as one ``error:`` line."""


class SettingsError(SweepError):
    """A setting that the study refuses (one line naming the flag or key)."""


#: the baseline without pretraining; the positive control (the encoder of the random-init, full fine-tuning,
#: 100%-label run of the same fold and seed, trained with labels on the fold's training images, then evaluated
#: like a pretraining)
RANDOM_INIT, SUPERVISED = 'random-init', 'supervised'
#: the random-box control: the GraSS config with ``box_mode='random'``, resumed from that GraSS run's warm-up
#: checkpoint (same warm-up, same number and sizes of crops as the DARs, random positions)
RANDOM_BOX_CONTROLS = {'GraSS-random-boxes': 'GraSS'}
#: linear: a 1x1 conv on the frozen encoder's last features (BN frozen, no auxiliary head); frozen: the FCN/UPerNet
#: head on the frozen encoder; full: the whole network
PROTOCOLS = ('linear', 'frozen', 'full')
#: cross-validation schemes: none (the data's own train/val split) or tiles (leave one tile out)
FOLD_SCHEMES = ('none', 'tiles')
DECODERS = ('fcn', 'upernet')
DEVICES = ('cpu', 'cuda')
#: channels of the four ResNet stages per depth
CHANNELS = {18: [64, 128, 256, 512], 34: [64, 128, 256, 512], 50: [256, 512, 1024, 2048]}
#: fine-tuning optimizers: the fine-tuning config's own (mmseg's SGD, momentum 0.9, weight decay 5e-4; None), and
#: the GraSS lab's Adam (no weight decay); with their default learning rates
FINETUNE_OPTIMIZERS = {'sgd': None, 'adam': dict(type='Adam', weight_decay=0.0)}
FINETUNE_DEFAULT_LR = {'sgd': 0.01, 'adam': 1e-4}
#: the noisy-pair study's methods (configs/noisy_pairs/<method>_...), its floor and its pair views
NOISY_PAIR_METHODS = ('mocov2', 'densecl', 'pixel-pair', 'grass')
NOISY_PAIR_VIEWS = ('vts', 'config')


def flag(key: str) -> str:
    """The command-line flag of setting ``key``: ``'finetune_iters'`` -> ``'--finetune-iters'``."""
    return '--' + key.replace('_', '-')


def _one_of(key: str, value, choices) -> None:
    if value not in choices:
        raise SettingsError(f'{flag(key)}: invalid choice {value!r} (choose from {", ".join(map(repr, choices))})')


def _positive(settings, keys: Sequence[str]) -> None:
    for key in keys:
        if getattr(settings, key) <= 0:
            raise SettingsError(f'{flag(key)} must be positive, got {getattr(settings, key)}')


def _no_repeats(settings, keys: Sequence[str]) -> None:
    for key in keys:
        vals = list(getattr(settings, key))
        if len(set(vals)) != len(vals):
            raise SettingsError(f'{flag(key)} lists a value twice: {vals}')


@dataclass
class StudySettings:
    """What every study has: its output folder and the pretraining budget (the subclasses set the defaults)."""

    work_dir: str = 'work_dirs/study'
    device: str = 'cpu'
    depth: int = 18
    size: int = 128
    batch: int = 16
    pretrain_iters: int = 200
    warmup_share: float = 0.5
    workers: int = 2

    #: the settings that change what a finished run means: the work-dir marker holds these
    MARKER_KEYS: ClassVar[tuple] = ()
    #: the value of a marker key for work dirs written before it existed
    LEGACY_DEFAULTS: ClassVar[dict] = {}

    # ------------------------------------------------------------------------- building
    @classmethod
    def from_dict(cls, values: dict, source: str = 'settings'):
        """Settings from ``{field: value}`` (e.g. ``vars()`` of the tool's parsed arguments).

        Raises:
            SettingsError: a key that is no field of these settings (one line naming it).
        """
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ''
                raise SettingsError(f"{source}: unknown setting '{key}' of {cls.__name__}{hint}")
        return cls(**values)

    def marker(self) -> dict:
        """The ``MARKER_KEYS`` settings as the work-dir marker stores them (JSON values)."""
        return {k: getattr(self, k) for k in self.MARKER_KEYS}

    @classmethod
    def stored(cls, marker: dict, source: str = 'marker') -> dict:
        """A marker read as the current version reads it: every ``MARKER_KEYS`` key, a key written before it
        existed as its ``LEGACY_DEFAULTS`` value (else None, which differs from every setting).

        Raises:
            SettingsError: the marker is not a JSON object, or holds a key that is no marker key (naming it).
        """
        if not isinstance(marker, dict):
            raise SettingsError(f'{source}: not a settings marker (a JSON object), got {type(marker).__name__}')
        for key in marker:
            if key not in cls.MARKER_KEYS:
                near = difflib.get_close_matches(str(key), cls.MARKER_KEYS, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ''
                raise SettingsError(
                    f"{source}: unknown setting '{key}' (not a recorded setting of {cls.__name__}){hint}"
                )
        return {k: marker.get(k, cls.LEGACY_DEFAULTS.get(k)) for k in cls.MARKER_KEYS}

    @classmethod
    def from_marker(cls, marker: dict, source: str = 'marker', **others):
        """The settings a work dir's marker records (``others``: the fields it does not record; defaults)."""
        stored = cls.stored(marker, source)
        known = {k: v for k, v in stored.items() if k in marker or k in cls.LEGACY_DEFAULTS}
        return cls.from_dict(dict(others, **known), source)

    def changed(self, stored: dict, keys: Optional[Sequence[str]] = None) -> Dict[str, tuple]:
        """``{key: (stored value, current value)}`` for the ``keys`` (default: ``MARKER_KEYS``) that differ from
        the marker ``stored`` (a key it lacks reads as its ``LEGACY_DEFAULTS`` value)."""
        keys = self.MARKER_KEYS if keys is None else keys
        old, now = self.stored(stored), self.marker()
        return {k: (old[k], now[k]) for k in keys if old[k] != now[k]}

    # ------------------------------------------------------------------------- checks
    def check(self) -> None:
        """Refuse settings the study cannot run (one line naming the flag).

        Raises:
            SettingsError
        """
        _one_of('device', self.device, DEVICES)
        _one_of('depth', self.depth, sorted(CHANNELS))

    def _check_budget(self, positive: Sequence[str]) -> None:
        _positive(self, positive)
        if self.batch < 2:
            raise SettingsError('--batch must be at least 2 (the contrastive loss needs negatives)')
        if not 0.0 <= self.warmup_share < 1.0:
            raise SettingsError(f'--warmup-share must lie in [0, 1), got {self.warmup_share}')
        if self.workers < 0:
            raise SettingsError(f'--workers must be >= 0, got {self.workers}')


# ----------------------------------------------------------------------------- the sweep
@dataclass
class SweepSettings(StudySettings):
    """The experiment runner (``tools/experiments/sweep.py``; flag help there)."""

    work_dir: str = 'work_dirs/sweep'
    # the plan: which runs (more values extend a finished sweep)
    methods: List[str] = field(default_factory=lambda: [RANDOM_INIT, 'SimCLR', 'GraSS'])
    fractions: List[float] = field(default_factory=lambda: [1.0])
    protocols: List[str] = field(default_factory=lambda: ['frozen', 'full'])
    folds: str = 'none'
    fold_tiles: Optional[List[str]] = None
    seeds: List[int] = field(default_factory=lambda: [0, 1, 2])
    confidence: float = 0.95
    report_only: bool = False
    # data, model and budget
    data: Optional[str] = None
    dataset_config: Optional[str] = None
    decoder: str = 'fcn'
    finetune_iters: int = 150
    finetune_optimizer: str = 'sgd'
    finetune_lr: Optional[float] = None  # None: the optimizer's default (FINETUNE_DEFAULT_LR)
    backbone_lr_mult: float = 1.0
    norm_eval: bool = False
    probe_iters: int = 0
    reestimate_bn: bool = False
    seg_batch: int = 4
    view_size: int = 64
    seg_scale: Optional[int] = None
    pretrain_config: List[str] = field(default_factory=list)  # 'NAME=CONFIG' items
    reuse_pretraining: Optional[str] = None

    MARKER_KEYS: ClassVar[tuple] = (
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
    LEGACY_DEFAULTS: ClassVar[dict] = {
        'probe_iters': 0,
        'finetune_optimizer': 'sgd',
        'reestimate_bn': False,
        'folds': 'none',
    }
    #: the settings that make a pretraining: another sweep's checkpoints are reused only when these match
    PRETRAIN_KEYS: ClassVar[tuple] = (
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

    def __post_init__(self):
        for key in ('methods', 'fractions', 'protocols', 'seeds', 'pretrain_config'):
            setattr(self, key, list(getattr(self, key)))
        if self.fold_tiles is not None:
            self.fold_tiles = list(self.fold_tiles)
        if self.finetune_lr is None:
            self.finetune_lr = FINETUNE_DEFAULT_LR.get(self.finetune_optimizer)

    def marker(self) -> dict:
        out = super().marker()
        out['pretrain_config'] = sorted(self.pretrain_config)
        if out['reuse_pretraining']:
            out['reuse_pretraining'] = osp.abspath(out['reuse_pretraining'])
        return out

    @property
    def pretrain_configs(self) -> Dict[str, str]:
        """``{method: config file}``: the built-in methods and every ``--pretrain-config NAME=CONFIG``."""
        from .paths import BUILTIN_PRETRAIN, packaged_config

        out = {name: packaged_config(rel) for name, rel in BUILTIN_PRETRAIN.items()}
        for item in self.pretrain_config:
            name, _, path = item.partition('=')
            out[name] = osp.abspath(path)
        return out

    @property
    def pretrained_methods(self) -> List[str]:
        """The methods that pretrain, in run order: a random-box control after the GraSS run it resumes."""
        ssl = [m for m in self.methods if m not in (RANDOM_INIT, SUPERVISED, *RANDOM_BOX_CONTROLS)]
        return ssl + [m for m in self.methods if m in RANDOM_BOX_CONTROLS]

    def check(self) -> None:
        super().check()
        self._check_choices()
        self._check_budget(('pretrain_iters', 'finetune_iters', 'batch', 'seg_batch', 'size', 'view_size'))
        self._check_recipe()
        self._check_data()
        self._check_pretrain_configs()
        self._check_plan()

    def _check_choices(self) -> None:
        _one_of('decoder', self.decoder, DECODERS)
        _one_of('finetune_optimizer', self.finetune_optimizer, sorted(FINETUNE_OPTIMIZERS))
        _one_of('folds', self.folds, FOLD_SCHEMES)
        for p in self.protocols:
            _one_of('protocols', p, PROTOCOLS)
        for f in self.fractions:
            if not 0 < f <= 1:
                raise SettingsError(f'label fraction {f:g} is outside (0, 1]')
        if self.data and self.dataset_config:
            raise SettingsError('--data and --dataset-config exclude each other')

    def _check_recipe(self) -> None:
        if self.view_size > self.size:
            raise SettingsError(f'--view-size {self.view_size} is larger than --size {self.size}')
        if self.seg_scale is not None and self.seg_scale < self.size:
            raise SettingsError(f'--seg-scale {self.seg_scale} is smaller than the crop --size {self.size}')
        if self.seg_scale is not None and self.dataset_config:
            raise SettingsError(
                '--seg-scale applies to the Dubai data; set the resize of --dataset-config in that config'
            )
        if not 0 <= self.probe_iters < self.finetune_iters:
            raise SettingsError(
                f'--probe-iters must lie in [0, --finetune-iters {self.finetune_iters}), got {self.probe_iters}'
            )
        if self.finetune_lr <= 0 or self.backbone_lr_mult < 0:
            raise SettingsError(
                f'--finetune-lr must be positive and --backbone-lr-mult non-negative, got '
                f'{self.finetune_lr} and {self.backbone_lr_mult}'
            )

    def _check_data(self) -> None:
        """Hook of the quickstart (its own data flags)."""

    def _check_pretrain_configs(self) -> None:
        for item in self.pretrain_config:
            name, sep, path = item.partition('=')
            if not sep or not name or not path:
                raise SettingsError(f'--pretrain-config {item!r}: expected NAME=CONFIG')
            if name == RANDOM_INIT or not re.fullmatch(r'[A-Za-z][\w.+-]*', name):
                raise SettingsError(f'--pretrain-config {item!r}: {name!r} is not a usable method name')
            if not osp.isfile(path):
                raise SettingsError(f'--pretrain-config {item!r}: config file {path} does not exist')
            from grass_mm.runtime import check_pretrain_config

            try:  # a segmentation config (or one that does not read) is refused here, not inside a later step
                check_pretrain_config(path)
            except ValueError as err:
                raise SettingsError(str(err)) from None

    def _check_plan(self) -> None:
        known = {RANDOM_INIT, SUPERVISED, *self.pretrain_configs, *RANDOM_BOX_CONTROLS}
        unknown = [m for m in self.methods if m not in known]
        if unknown:
            raise SettingsError(
                f'unknown method(s) {unknown}: use random-init, {", ".join(sorted(known - {RANDOM_INIT}))} '
                f'or add one with --pretrain-config NAME=CONFIG'
            )
        for control, base in RANDOM_BOX_CONTROLS.items():
            if control in self.methods and base not in self.methods:
                raise SettingsError(f'--methods {control} starts from the warm-up of {base}: list {base} too')
        if self.fold_tiles and self.folds != 'tiles':
            raise SettingsError('--fold-tiles needs --folds tiles')
        _no_repeats(self, ('methods', 'fractions', 'protocols', 'seeds'))
        if not 0 < self.confidence < 1:
            raise SettingsError(f'--confidence must lie in (0, 1), got {self.confidence}')


@dataclass
class QuickstartSettings(SweepSettings):
    """The quickstart (``tools/quickstart.py``): the sweep's random-init, SimCLR and GraSS on one fold, with the
    budget of the committed cross-validation protocol (``docs/protocols/cv_dubai.md``: 120 pretraining and 40
    fine-tuning iterations, one data-loading worker), prediction and Loss Attention Map pictures."""

    work_dir: str = 'work_dirs/quickstart'
    pretrain_iters: int = 120
    finetune_iters: int = 40
    workers: int = 1
    protocols: List[str] = field(default_factory=lambda: list(PROTOCOLS))
    seeds: List[int] = field(default_factory=lambda: [0])
    overwrite: bool = False
    vts: bool = False
    num_train: int = 256
    num_val: int = 32
    num_pictures: int = 4

    #: the quickstart's methods (not a flag)
    METHODS: ClassVar[tuple] = (RANDOM_INIT, 'SimCLR', 'GraSS')

    def _check_data(self) -> None:
        _positive(self, ('num_train', 'num_val', 'num_pictures'))
        if self.vts and (self.data or self.dataset_config):
            raise SettingsError('--vts cannot be combined with --data or --dataset-config')


# ----------------------------------------------------------------------------- the noisy-pair study
@dataclass
class NoisyPairsSettings(StudySettings):
    """The noisy-pair study (``tools/experiments/noisy_pairs.py``; flag help there)."""

    work_dir: str = 'work_dirs/noisy_pairs'
    size: int = 64
    batch: int = 32
    workers: int = 0
    methods: List[str] = field(default_factory=lambda: list(NOISY_PAIR_METHODS))
    r_img: List[float] = field(default_factory=lambda: [0.0, 0.5, 1.0])
    noisy_share: List[float] = field(default_factory=lambda: [1.0])
    no_baseline: bool = False
    base_channels: int = 16
    lr: float = 0.05
    views: str = 'vts'
    eval_iters: int = 200
    eval_batch: int = 8
    eval_lr: float = 0.05
    eval_train: int = 64
    eval_test: int = 128
    floor_margin: float = 1.0
    finetune: bool = False
    seed: int = 0
    no_plot: bool = False

    MARKER_KEYS: ClassVar[tuple] = (
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

    def __post_init__(self):
        for key in ('methods', 'r_img', 'noisy_share'):
            setattr(self, key, list(getattr(self, key)))

    @property
    def protocol(self) -> str:
        """``'finetune'`` (full fine-tuning) or ``'frozen'`` (the frozen encoder)."""
        return 'finetune' if self.finetune else 'frozen'

    def check(self) -> None:
        super().check()
        _one_of('views', self.views, NOISY_PAIR_VIEWS)
        for m in self.methods:
            _one_of('methods', m, NOISY_PAIR_METHODS)
        for key in ('r_img', 'noisy_share'):
            for v in getattr(self, key):
                if not 0.0 <= v <= 1.0:
                    raise SettingsError(f'{flag(key)} values must lie in [0, 1], got {v:g}')
            _no_repeats(self, (key,))
        _no_repeats(self, ('methods',))
        self._check_budget(('size', 'base_channels', 'batch', 'pretrain_iters', 'eval_iters', 'eval_batch'))
        _positive(self, ('eval_train', 'eval_test'))
        if self.size < 32 or self.size % 32:
            raise SettingsError(f'--size must be a multiple of 32 (the ResNet stride), got {self.size}')
        if self.lr <= 0 or self.eval_lr <= 0:
            raise SettingsError(f'--lr and --eval-lr must be positive, got {self.lr:g} and {self.eval_lr:g}')
        if self.floor_margin < 0:
            raise SettingsError(f'--floor-margin must be >= 0, got {self.floor_margin:g}')
