"""The noisy-pair study on VTS (Gerard & Sullivan, "Contrastive pretraining for semantic segmentation is robust
to noisy positive pairs"): per-image noise ``r_img`` x share of noisy pairs x method, each pretraining evaluated
with the frozen-encoder FCN protocol (or full fine-tuning), against the random-init floor.

It runs on the sweep's orchestration path: every step is an ordinary config written to ``OUT/configs/`` and run
by ``tools/train.py`` (:class:`~grass_mm.experiments.steps.Steps`); the report is
:mod:`grass_mm.analysis.sweep_report`'s (``noisy_pairs.csv``, ``noisy_pairs.md``, ``noisy_pairs.png``).
"""

import os
import os.path as osp
import time
from typing import List, Optional

from .configs import backbone_keys, load_config, update_transforms
from .paths import NOISY_PAIRS_EVAL, NOISY_PAIRS_PRETRAIN, packaged_config
from .settings import NoisyPairsSettings, SweepError
from .steps import Steps, finished_checkpoint, has_result, last_checkpoint, logged_losses
from .sweep import check_device
from .work_dir import prepare_work_dir, undo_work_dir

FLOOR = 'random-init'


def feat_channels(s: NoisyPairsSettings) -> int:
    """Channels of the last ResNet stage (stride 32 in pretraining, 8 in the dilated FCN backbone)."""
    return s.base_channels * 8 * (4 if s.depth >= 50 else 1)


def _backbone(s: NoisyPairsSettings) -> dict:
    """The backbone keys every pretraining and the evaluation share: same architecture, same initialisation
    (zero-initialised residual branches, mmseg's default, so the random-init floor is the pretraining's start)."""
    return dict(depth=s.depth, stem_channels=s.base_channels, base_channels=s.base_channels, zero_init_residual=True)


def pretrain_config(method: str, s: NoisyPairsSettings, r_img: float, share: float):
    """``configs/noisy_pairs/<method>_..._vts-pairs.py`` with this study's backbone, pairs and budget."""
    from mmengine.config import ConfigDict

    cfg = load_config(packaged_config(NOISY_PAIRS_PRETRAIN[method]))
    n, ch = s.pretrain_iters, feat_channels(s)
    proj = 64  # projection / queue feature size
    cfg.model.backbone.update(_backbone(s), norm_cfg=dict(type='BN'))
    cfg.model.neck.update(in_channels=ch, hid_channels=2 * ch, out_channels=proj)
    if cfg.model.type in ('MoCo', 'DenseCL'):  # a queue of a few batches: the queue has to fill during the run
        cfg.model.update(queue_len=16 * s.batch, feat_dim=proj, momentum=0.01)
    if cfg.model.type == 'GraSS' and s.size < 128:  # stage 4 would give a 2x2 LAM at this view size
        cfg.model.gs_stage = -2
    ds = cfg.train_dataloader.dataset
    ds.update(num_samples=max(s.batch * 4, min(s.batch * n, 4000)), seed=s.seed, r_img=r_img, size=s.size)
    views = dict(pair_prob=share) if s.views == 'config' else dict(pair_prob=share, photometric=[])
    pipeline = update_transforms(ds.pipeline, 'PairedViews', **views)
    ds.pipeline = update_transforms(pipeline, 'RandomResizedCrop', scale=s.size)
    cfg.train_dataloader.update(
        batch_size=s.batch,
        num_workers=s.workers,
        persistent_workers=s.workers > 0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
    )
    cfg.optim_wrapper = ConfigDict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=s.lr, momentum=0.9, weight_decay=1e-4)
    )
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=n, by_epoch=False, begin=0, end=n)]
    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=n)
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.log_processor = ConfigDict(by_epoch=False)
    cfg.randomness = ConfigDict(seed=s.seed)
    warmup = int(round(s.warmup_share * n))
    cfg.custom_hooks = [
        dict(type='GraSSWarmupHook', warmup_iters=warmup) if h['type'] == 'GraSSWarmupHook' else h
        for h in cfg.get('custom_hooks', [])
    ]
    cfg.grass_mm_meta = dict(method=method, dataset='VTS pairs', r_img=r_img, noisy_share=share, seed=s.seed)
    return cfg


def eval_config(method: str, s: NoisyPairsSettings, ckpt: Optional[str] = None, r_img=None, share=None):
    """The frozen-encoder FCN protocol (``--finetune``: full fine-tuning) on VTS, from ``ckpt`` (None: random)."""
    from mmengine.config import ConfigDict

    cfg = load_config(packaged_config(NOISY_PAIRS_EVAL[s.protocol]))
    n, ch, size = s.eval_iters, feat_channels(s), (s.size, s.size)
    cfg.model.backbone.update(_backbone(s))
    cfg.model.backbone.init_cfg = None if ckpt is None else dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    cfg.model.data_preprocessor.size = size
    cfg.model.decode_head.update(in_channels=ch, channels=max(16, ch // 2))
    data = dict(size=s.size)
    cfg.train_dataloader.update(batch_size=s.eval_batch, num_workers=s.workers, persistent_workers=s.workers > 0)
    cfg.train_dataloader.dataset.update(data, num_samples=s.eval_train, seed=s.seed + 1000)
    cfg.val_dataloader.update(batch_size=8, num_workers=s.workers, persistent_workers=s.workers > 0)
    cfg.val_dataloader.dataset.update(data, num_samples=s.eval_test, seed=s.seed + 2000)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.optim_wrapper.optimizer.lr = s.eval_lr
    cfg.param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=n, by_epoch=False)]
    cfg.train_cfg.update(max_iters=n, val_interval=n)
    cfg.default_hooks.checkpoint.update(interval=n, max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, min(10, n // 5))
    cfg.randomness = ConfigDict(seed=s.seed)
    cfg.grass_mm_meta = dict(
        method=method, dataset='VTS', protocol=s.protocol, r_img=r_img, noisy_share=share, seed=s.seed
    )
    return cfg


def check_backbones(s: NoisyPairsSettings, methods) -> None:
    """Every pretraining backbone provides every key of the evaluation backbone (before any run)."""
    seg_keys = backbone_keys(eval_config(FLOOR, s).model.backbone, 'mmseg')
    for method in methods:
        missing = sorted(seg_keys - backbone_keys(pretrain_config(method, s, 0.0, 1.0).model.backbone, 'mmpretrain'))
        if missing:
            raise SweepError(
                f'{packaged_config(NOISY_PAIRS_PRETRAIN[method])}: its backbone lacks {len(missing)} key(s) of the '
                f'evaluation backbone, e.g. {missing[:3]}'
            )


def run_name(method: str, r_img=None, share=None, seed: int = 0) -> str:
    if method == FLOOR:
        return f'{FLOOR}/seed{seed}'
    return f'{method}/rimg{r_img:g}_share{share:g}/seed{seed}'


def plan(s: NoisyPairsSettings) -> list:
    """``[(method, r_img, share)]`` in run order; the floor first (r_img, share None)."""
    runs = [] if s.no_baseline else [(FLOOR, None, None)]
    return runs + [(m, r, sh) for m in s.methods for sh in s.noisy_share for r in s.r_img]


def pretrain_loss(work_dir: str) -> float:
    """Mean of the last logged pretraining losses (up to 5 log lines), or NaN."""
    losses = logged_losses(work_dir)[-5:]
    return float(sum(losses) / len(losses)) if losses else float('nan')


def run_study(s: NoisyPairsSettings, out: str) -> List[dict]:
    """Run (or resume) every step; returns one record per evaluated run."""
    from grass_mm.analysis import read_metrics

    cfg_dir = osp.join(out, 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    protocol = s.protocol
    runs = plan(s)
    n_pre = sum(m != FLOOR for m, _, _ in runs)
    steps = Steps(out, s.device, total=n_pre + len(runs))
    kinds = [k for m, _, _ in runs for k in (['eval'] if m == FLOOR else ['pretrain', 'eval'])]
    records = []
    for method, r_img, share in runs:
        rn = run_name(method, r_img, share, s.seed)
        what = FLOOR if method == FLOOR else f'{method}, r_img {r_img:g}, noisy share {share:g}'
        ckpt, loss = None, float('nan')
        if method != FLOOR:
            wd = osp.join(out, 'pretrain', rn)
            path = osp.join(cfg_dir, 'pretrain_' + rn.replace('/', '_') + '.py')
            pretrain_config(method, s, r_img, share).dump(path)
            ckpt = finished_checkpoint(wd, s.pretrain_iters)
            title = f'pretraining {what} ({s.pretrain_iters} iterations, seed {s.seed})'
            if ckpt:
                steps.skip(title)
            else:
                steps.train(title, path, wd, 'pretrain', kinds[steps.done + 1 :])
                ckpt = last_checkpoint(wd)
            loss = pretrain_loss(wd)
        wd = osp.join(out, protocol, rn)
        path = osp.join(cfg_dir, f'fcn-{protocol}_' + rn.replace('/', '_') + '.py')
        eval_config(method, s, ckpt, r_img, share).dump(path)
        title = f'FCN, {protocol} encoder ({what}, {s.eval_iters} iterations, then IoUMetric)'
        if has_result(wd, s.eval_iters):
            steps.skip(title)
        else:
            steps.train(title, path, wd, 'eval', kinds[steps.done + 1 :])
        metrics, _, _ = read_metrics(wd)
        records.append(
            dict(
                method=method,
                r_img=r_img,
                noisy_share=share,
                seed=s.seed,
                pretrain_loss=loss,
                mIoU=metrics['mIoU'],
                aAcc=metrics['OA'],
                mAcc=metrics['mAcc'],
                config=path,
                work_dir=wd,
            )
        )
    return records


def run(s: NoisyPairsSettings) -> List[dict]:
    """Run (or resume) the study of the settings ``s``, write and print its report; returns its records."""
    from grass_mm.analysis.sweep_report import (
        clean_pair_warnings,
        mark_floor,
        noisy_pairs_markdown,
        plot_noisy_pairs,
        write_noisy_pairs_csv,
    )

    s.check()
    check_device(s.device)
    out = osp.abspath(s.work_dir)
    existed = osp.isdir(out)
    resumed = prepare_work_dir(out, s)
    try:
        check_backbones(s, s.methods)
    except SweepError:
        if not resumed:
            undo_work_dir(out, existed)
        raise
    if resumed:
        print(f'[noisy_pairs] resuming {out}: finished runs are skipped', flush=True)
    t0 = time.time()
    records = run_study(s, out)
    margin = s.floor_margin
    mark_floor(records, margin)
    protocol = 'full fine-tuning' if s.finetune else 'frozen encoder'
    title = (
        f'VTS noisy pairs, FCN-R{s.depth} (width {s.base_channels}, {protocol}), {s.size} px, '
        f'{s.pretrain_iters} + {s.eval_iters} iterations, seed {s.seed}'
    )
    md = noisy_pairs_markdown(records, margin, title)
    below = clean_pair_warnings(records, margin)
    if below:
        md += '\n' + '\n'.join(f'- {w}' for w in below) + '\n'
    csv_path, md_path, png_path = (osp.join(out, f'noisy_pairs.{e}') for e in ('csv', 'md', 'png'))
    write_noisy_pairs_csv(records, csv_path)
    with open(md_path, 'w') as f:
        f.write(md)
    if not s.no_plot:
        plot_noisy_pairs(records, png_path, title, protocol)
    print('\n' + md)
    for w in below:
        print(w, flush=True)
    print(
        f'[noisy_pairs] {len(records)} evaluated runs in {time.time() - t0:.0f} s -> {csv_path}, {md_path}'
        + ('' if s.no_plot else f', {png_path}')
        + '; configs/ and commands.sh beside them'
    )
    return records
