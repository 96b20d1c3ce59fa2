"""The sweep's configs: ordinary OpenMMLab configs made from the package's configs and the settings.

* :func:`pretrain_config`: a pretraining config (SimCLR, GraSS, any ``--pretrain-config``) with the sweep's
  data (the training images only), backbone depth, batch, iterations and seed;
* :func:`finetune_config`: FCN or UPerNet on the dataset, from a checkpoint or at random, under one evaluation
  protocol (linear probe, frozen encoder, full fine-tuning), on a seeded label subset;
* :func:`check_backbones`: every pretraining backbone fits the fine-tuning backbone, before anything runs.
"""

import copy
import functools
import os.path as osp
from typing import Optional, Sequence, Tuple

from .paths import FINETUNE_CONFIGS, packaged_config
from .settings import CHANNELS, FINETUNE_OPTIMIZERS, RANDOM_BOX_CONTROLS, RANDOM_INIT, SUPERVISED, SweepError

#: the linear probe's learning rate, as a multiple of --finetune-lr (a single layer takes a larger step)
LINEAR_LR_MULT = 10.0
#: --reestimate-bn: BN statistics averaged over this many training batches (random crops of the labelled images)
REESTIMATE_BATCHES = 50


@functools.lru_cache(maxsize=None)
def _parsed_config(path):
    from mmengine.config import Config

    return Config.fromfile(path)


def load_config(path: str):
    """A fresh copy of the config file ``path`` (each file is parsed once: its ``mmseg::`` bases are slow to read)."""
    return copy.deepcopy(_parsed_config(osp.abspath(path)))


def image_folder(seg, split: str) -> Tuple[str, str]:
    """``(data_root, img_path prefix)`` of the ``{split}_dataloader`` dataset (through label subsets)."""
    ds = seg[f'{split}_dataloader']['dataset']
    while ds.get('type') == 'LabelSubsetDataset':
        ds = ds['dataset']
    prefix = ds.get('data_prefix', {})
    return ds.get('data_root', '') or '', prefix.get('img_path', '') if isinstance(prefix, dict) else prefix


def update_transforms(pipeline, type_name: str, required: bool = True, **kwargs):
    """A copy of ``pipeline`` whose transforms of type ``type_name`` (at any depth) get ``kwargs``.

    Raises:
        SweepError: ``required`` and no transform of that type in the pipeline.
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
    if required and not found:
        raise SweepError(f'the pipeline has no {type_name} transform to set {sorted(kwargs)} on')
    return out


def set_loaders(cfg, workers: int) -> None:
    """``workers`` dataloader workers (persistent when any) for every dataloader of ``cfg``."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg:
            cfg[key]['num_workers'] = workers
            cfg[key]['persistent_workers'] = workers > 0


def set_iter_hooks(cfg, iters: int) -> None:
    """One checkpoint at the end of ``iters`` iterations (the only one kept), about five log lines."""
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, min(10, iters // 5)))


def backbone_keys(backbone: dict, registry: str) -> set:
    """The state-dict keys of the backbone config ``backbone``, built by the ``registry`` (``'mmseg'`` or
    ``'mmpretrain'``) models registry under the mmseg default scope."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRE_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    import grass_mm  # noqa: F401

    init_default_scope('mmseg')
    return set((SEG_MODELS if registry == 'mmseg' else PRE_MODELS).build(backbone).state_dict())


def pretrain_config(method: str, s, data: dict, seed: int):
    """The pretraining config of ``method``: its config file with the sweep's data and budget.

    A GraSS run also saves its warm-up checkpoint (``warmup_end.pth``); a random-box control
    (:data:`~grass_mm.experiments.settings.RANDOM_BOX_CONTROLS`) is its GraSS config with ``box_mode='random'``,
    which the runner resumes from that checkpoint.
    """
    base = RANDOM_BOX_CONTROLS.get(method, method)
    path = s.pretrain_configs[base]
    cfg = load_config(path)
    if method in RANDOM_BOX_CONTROLS:
        cfg.model.box_mode = 'random'
    n = s.pretrain_iters
    chans = CHANNELS[s.depth][-1]
    if cfg.model.get('backbone', {}).get('type') != 'ResNet':
        raise SweepError(
            f'pretraining config of {method} ({path}): backbone type '
            f'{cfg.model.get("backbone", {}).get("type")!r}, the fine-tuning backbone is ResNet'
        )
    cfg.model.backbone.depth = s.depth
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
        tile_size=s.size,
        stride=s.size,
        pipeline=update_transforms(ds.pipeline, 'RandomResizedCrop', required=False, scale=s.view_size),
    )
    ds.pop('include', None)
    cfg.train_dataloader.batch_size = s.batch
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    set_loaders(cfg, s.workers)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=n)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=n, by_epoch=False, begin=0, end=n)]
    set_iter_hooks(cfg, n)
    cfg.log_processor = dict(by_epoch=False)
    cfg.randomness = dict(seed=seed)
    cfg.custom_hooks = [
        dict(h, warmup_iters=int(round(s.warmup_share * n)), save_warmup_checkpoint=True)
        if h['type'] == 'GraSSWarmupHook'
        else h
        for h in cfg.get('custom_hooks', [])
    ]
    return cfg


def finetune_config(
    method: str, s, data: dict, ckpt: Optional[str] = None, protocol: str = 'full', fraction: float = 1.0, seed: int = 0
):
    """FCN/UPerNet-R{depth} on the dataset, initialised from ``ckpt`` (None: random)."""
    cfg = load_config(packaged_config(FINETUNE_CONFIGS[s.decoder]))
    for k, v in data['seg'].items():
        cfg[k] = v
    chans = CHANNELS[s.depth]
    nc = data['num_classes']
    cfg.num_classes = nc
    cfg.model.backbone.depth = s.depth
    cfg.model.data_preprocessor.size = data['crop']
    cfg.model.decode_head.update(in_channels=chans[3] if s.decoder == 'fcn' else chans, num_classes=nc)
    cfg.model.auxiliary_head.update(in_channels=chans[2], num_classes=nc)
    cfg.model.backbone.init_cfg = None if ckpt is None else dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    # the fine-tuning recipe flags change pretrained starts only (random-init has no features or statistics
    # to protect, and its baseline is the plain recipe)
    recipe = protocol == 'full' and method != RANDOM_INIT
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
    elif recipe and s.norm_eval:
        cfg.model.backbone.norm_eval = True
    if fraction < 1:
        cfg.train_dataloader.dataset = dict(
            type='LabelSubsetDataset', dataset=cfg.train_dataloader.dataset, fraction=fraction, seed=seed
        )
    n = s.finetune_iters
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=n, val_interval=n)
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=n, by_epoch=False)]
    if FINETUNE_OPTIMIZERS[s.finetune_optimizer] is not None:
        cfg.optim_wrapper.optimizer = dict(FINETUNE_OPTIMIZERS[s.finetune_optimizer])
    cfg.optim_wrapper.optimizer.lr = s.finetune_lr * (LINEAR_LR_MULT if protocol == 'linear' else 1.0)
    if recipe and s.backbone_lr_mult != 1:
        cfg.optim_wrapper.paramwise_cfg = dict(custom_keys={'backbone': dict(lr_mult=s.backbone_lr_mult)})
    if recipe and s.probe_iters:
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='ProbeThenFinetuneHook', probe_iters=s.probe_iters)]
    if recipe and s.reestimate_bn:
        reestimate = dict(type='ReestimateBNHook', num_samples=REESTIMATE_BATCHES * s.seg_batch)
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), reestimate]
    set_iter_hooks(cfg, n)
    cfg.train_dataloader.batch_size = s.seg_batch
    set_loaders(cfg, s.workers)
    cfg.randomness = dict(seed=seed)
    for key in ('val_evaluator', 'test_evaluator'):  # per-class IoU and test-pixel shares for the reports
        if cfg.get(key, {}).get('type') == 'IoUMetric':
            cfg[key] = dict(cfg[key], type='ClassIoUMetric')
    cfg.grass_mm_meta = dict(method=method, dataset=data['name'], protocol=protocol, fraction=fraction, seed=seed)
    return cfg


def check_backbones(s, data: dict, methods: Optional[Sequence[str]] = None) -> None:
    """Every pretraining backbone must provide every key of the fine-tuning backbone (before any run)."""
    seg_keys = backbone_keys(finetune_config(RANDOM_INIT, s, data).model.backbone, 'mmseg')
    for method in s.methods if methods is None else methods:
        if method in (RANDOM_INIT, SUPERVISED, *RANDOM_BOX_CONTROLS):  # the last two: checked through their base
            continue
        cfg = pretrain_config(method, s, data, seed=0)
        try:
            pre_keys = backbone_keys(cfg.model.backbone, 'mmpretrain')
        except Exception as err:
            raise SweepError(
                f'pretraining config of {method} ({s.pretrain_configs[method]}): its backbone '
                f'does not build: {type(err).__name__}: {err}'.splitlines()[0]
            ) from None
        missing = sorted(seg_keys - pre_keys)
        if missing:
            raise SweepError(
                f'pretraining config of {method} ({s.pretrain_configs[method]}): its backbone '
                f'lacks {len(missing)} key(s) of the fine-tuning backbone, e.g. {missing[:3]}'
            )
