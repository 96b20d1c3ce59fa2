"""The sweep: pretraining methods x label fractions x evaluation protocols x seeds (x leave-one-tile-out folds).

* pretraining: one run per (method, seed) on the training images of the dataset (never a validation image),
  same backbone, budget, batch and seed for every method;
* fine-tuning: FCN or UPerNet per (method, protocol, label fraction, seed), evaluated with mmseg's IoUMetric
  at its end;
* report: ``results.csv``, ``results.md`` and ``results.png`` (:mod:`grass_mm.analysis.sweep_report`); with
  ``--folds tiles`` one sweep per fold under ``folds/<tile>/`` and the cross-validation report
  (:mod:`grass_mm.analysis.folds`) over every finished fold.

A run whose result (or checkpoint) is already there is skipped, so an interrupted sweep resumes when started
again with the same settings; ``report_only`` runs nothing and reports the finished runs.
"""

import math
import os
import os.path as osp
import time
from typing import Optional

from .configs import check_backbones, finetune_config, pretrain_config
from .data import prepare_data, tile_folds
from .settings import RANDOM_BOX_CONTROLS, RANDOM_INIT, SUPERVISED, SweepError, SweepSettings
from .steps import Steps, finished_checkpoint, finished_metrics, last_checkpoint, logged_losses
from .work_dir import MARKER, check_reuse, prepare_work_dir, pretrain_dir, undo_work_dir

NOT_RUN = 'not run yet (--report-only)'


def run_name(method: str, protocol: str, fraction: float, seed: int) -> str:
    return f'{method.lower()}/{protocol}/frac{fraction:g}/seed{seed}'


def run_sweep(s: SweepSettings, work_dir: str, data: dict, steps_extra: int = 0, quiet: bool = False, pictures=None):
    """Run (or resume) every step; returns ``(records, pretrain, steps)``.

    ``pictures``: ``dict(key=(protocol, fraction, seed), interval=K)``: the fine-tuning runs of that setting draw
    every K-th validation prediction (mmseg's SegVisualizationHook, into ``<work_dir>/<timestamp>/vis_data/vis_image``).

    ``records``: one dict per fine-tuning run (method, protocol, fraction, seed, work_dir, metrics);
    ``pretrain``: ``{(method, seed): (config path, checkpoint)}``.
    """
    cfg_dir = osp.join(work_dir, 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    ssl = s.pretrained_methods
    n_pre = len(ssl) * len(s.seeds)
    n_ft = len(s.methods) * len(s.protocols) * len(s.fractions) * len(s.seeds)
    steps = Steps(work_dir, s.device, total=n_pre + n_ft + steps_extra, quiet=quiet)
    kinds = ['pretrain'] * n_pre + ['finetune'] * n_ft

    def remaining():
        return kinds[steps.done + 1 :]

    pretrain = {}
    for seed in s.seeds:
        for method in ssl:
            name = f'{method.lower()}_r{s.depth}_{data["name"].lower()}_seed{seed}'
            path = osp.join(cfg_dir, 'pretrain_' + name + '.py')
            wd = pretrain_dir(s, work_dir, method, seed)
            cfg = pretrain_config(method, s, data, seed)
            if method in RANDOM_BOX_CONTROLS:
                from grass_mm.engine.hooks import GraSSWarmupHook

                base_ckpt = pretrain.get((RANDOM_BOX_CONTROLS[method], seed), (None, None))[1]
                warm = osp.join(osp.dirname(base_ckpt or ''), GraSSWarmupHook.WARMUP_CHECKPOINT)
                cfg.update(load_from=warm, resume=True)
            cfg.dump(path)
            ckpt = finished_checkpoint(wd, s.pretrain_iters)
            title = f'pretraining {method} (ResNet-{s.depth}, {s.pretrain_iters} iterations, seed {seed})'
            if ckpt:
                steps.skip(title)
            elif s.report_only:
                steps.skip(title, NOT_RUN)
                continue
            elif s.reuse_pretraining:
                raise SweepError(f'--reuse-pretraining: {wd} holds no iter_{s.pretrain_iters}.pth')
            else:
                if method in RANDOM_BOX_CONTROLS and not osp.isfile(cfg.load_from):
                    raise SweepError(f'{method}: the warm-up checkpoint {cfg.load_from} of its GraSS run is missing')
                steps.train(title, path, wd, 'pretrain', remaining())
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
        metrics = finished_metrics(wd, s.finetune_iters)
        if s.report_only and metrics is None:
            steps.skip(f'fine-tuning ({what})', NOT_RUN)
            return None
        if method == RANDOM_INIT:
            ckpt = None
        elif method == SUPERVISED:  # the positive control's encoder: trained with all labels of these images
            source = finetune(RANDOM_INIT, 'full', 1.0, seed)
            ckpt = None if source is None else finished_checkpoint(source['work_dir'], s.finetune_iters)
            if ckpt is None:
                steps.skip(f'fine-tuning ({what})', NOT_RUN)
                return None
        else:
            ckpt = pretrain.get((method, seed), (None, None))[1]
        path = osp.join(cfg_dir, f'{s.decoder}_r{s.depth}_' + rn.replace('/', '_') + '.py')
        cfg = finetune_config(method, s, data, ckpt, protocol, fraction, seed)
        if pictures and pictures['key'] == (protocol, fraction, seed):
            vis = dict(type='SegVisualizationHook', draw=True, interval=pictures['interval'])
            cfg.default_hooks.visualization = vis
        cfg.dump(path)
        if metrics is not None:
            steps.skip(f'fine-tuning ({what})')
        else:
            title = f'fine-tuning {s.decoder.upper()} ({what}, {s.finetune_iters} iterations, then IoUMetric)'
            steps.train(title, path, wd, 'finetune', remaining())
            metrics = finished_metrics(wd, s.finetune_iters)
            if metrics is None:
                raise SweepError(f'fine-tuning {wd} finished without a validation result')
        done[rn] = dict(
            method=method, protocol=protocol, fraction=fraction, seed=seed, work_dir=wd, config=path, **metrics
        )
        return done[rn]

    records = []
    for seed in s.seeds:
        for fraction in s.fractions:
            for protocol in s.protocols:
                for method in s.methods:
                    rec = finetune(method, protocol, fraction, seed)
                    if rec is not None:
                        records.append(rec)
    return records, pretrain, steps


def pretrain_losses(pretrain: dict, batch: int):
    """``{(method, seed): (first, last) logged loss}`` of the pretraining runs, and the chance level ln(2N - 1)."""
    out = {}
    for key, (_, ckpt) in pretrain.items():
        losses = logged_losses(osp.dirname(ckpt))
        if losses:
            out[key] = (losses[0], losses[-1])
    return out, math.log(2 * batch - 1)


def write_outputs(records, work_dir: str, s: SweepSettings, pretrain: Optional[dict] = None, title=None) -> str:
    """results.csv / results.md / results.png; returns the Markdown text."""
    from grass_mm.analysis.sweep_report import plot_sweep, pretrain_loss_markdown, sweep_markdown, write_sweep_csv

    write_sweep_csv(records, osp.join(work_dir, 'results.csv'))
    md = sweep_markdown(records, confidence=s.confidence, title=title)
    if pretrain:
        losses, chance = pretrain_losses(pretrain, s.batch)
        if losses:
            md += pretrain_loss_markdown(losses, chance, s.batch)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(md)
    plot_sweep(records, osp.join(work_dir, 'results.png'), confidence=s.confidence, title=title)
    return md


def run_cv(s: SweepSettings, work_dir: str, tiles, chosen, t0: float) -> None:
    """``--folds tiles``: one sweep per fold in ``WORK_DIR/folds/<tile>``, then the cross-validation report over
    every fold that has finished (also the folds another process ran in this work dir)."""
    from grass_mm.analysis.folds import cv_markdown, read_cv_csv, write_cv_csv

    for i, tile in enumerate(chosen):
        fold_dir = osp.join(work_dir, 'folds', tile)
        os.makedirs(fold_dir, exist_ok=True)
        print(f'\n===== fold {i + 1}/{len(chosen)}: evaluate on {tile}, train on the other tiles', flush=True)
        data = prepare_data(s, fold_dir, val_tile=tile)
        records, pretrain, _ = run_sweep(s, fold_dir, data)
        if records:
            write_outputs(records, fold_dir, s, pretrain, title=f'{data["name"]}, fold {tile}')
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
    md = cv_markdown(records, confidence=s.confidence)
    if len(done) < len(tiles):
        print(f'[cv] {len(done)} of {len(tiles)} folds finished: {", ".join(done)}', flush=True)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(md)
    print('\n' + md)
    print(f'done in {time.time() - t0:.0f} s. Written to {work_dir}: results.csv, results.md, folds/<tile>/')


def check_device(device: str) -> None:
    if device == 'cuda':
        import torch

        if not torch.cuda.is_available():
            raise SweepError('--device cuda, but torch sees no GPU')


def run(s: SweepSettings) -> None:
    """Run (or resume, or with ``report_only`` only report) the sweep of the settings ``s``."""
    s.check()
    check_device(s.device)
    work_dir = osp.abspath(s.work_dir)
    if s.report_only and not osp.isfile(osp.join(work_dir, MARKER)):
        raise SweepError(f'--report-only: {work_dir} holds no sweep')
    tiles = chosen = None
    if s.folds == 'tiles':
        tiles, chosen = tile_folds(s)
    existed = osp.isdir(work_dir)
    resumed = prepare_work_dir(work_dir, s)
    try:
        if tiles:
            data = prepare_data(s, osp.join(work_dir, 'folds', chosen[0]), val_tile=chosen[0])
        else:
            data = prepare_data(s, work_dir)
        check_backbones(s, data)
        if s.reuse_pretraining:
            check_reuse(s)
    except SweepError:
        if not resumed:
            undo_work_dir(work_dir, existed)
        raise
    if resumed:
        print(f'[sweep] resuming {work_dir}: finished runs are skipped', flush=True)
    t0 = time.time()
    if tiles:
        return run_cv(s, work_dir, tiles, chosen, t0)
    records, pretrain, _ = run_sweep(s, work_dir, data)
    if not records:
        raise SweepError(f'{work_dir}: none of the requested fine-tuning runs has finished yet')
    md = write_outputs(records, work_dir, s, pretrain, title=f'{data["name"]}, {s.decoder.upper()}-R{s.depth}')
    print('\n' + md)
    print(
        f'done in {time.time() - t0:.0f} s. Written to {work_dir}: results.csv, results.md, results.png, '
        f'configs/, commands.sh, pretrain/, finetune/'
    )
