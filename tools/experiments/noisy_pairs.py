#!/usr/bin/env python
"""Noisy positive pairs on VTS: sweep the per-image noise ``r_img`` and the share of noisy pairs,
pretrain each method on VTS clean/noisy pairs, evaluate with the FROZEN protocol (pretrained
encoder frozen, FCN head trained on top), write a CSV, a Markdown table and a PNG plot of mIoU vs
noise per method, with the random-init floor.

    python tools/experiments/noisy_pairs.py                       # CPU default: 25 steps, ~7 min on 2 cores
    python tools/experiments/noisy_pairs.py --r-img 0 0.25 0.5 0.75 1 --noisy-share 0.5 1   # the full grid
    python tools/experiments/noisy_pairs.py --device cuda --size 224 --base-channels 64 \\
        --pretrain-iters 2000 --eval-iters 2000 --batch 64 --out work_dirs/noisy_pairs_gpu

Gerard & Sullivan, "Contrastive pretraining for semantic segmentation is robust to noisy
positive pairs". A pair is (clean VTS image, its noisy twin whose ``r_img`` share of the cells
is re-filled with a third texture); with probability ``1 - noisy_share`` the pair is the classic
"same image twice" (``PairedViews.pair_prob = noisy_share``). A ``random-init`` row (no
pretraining, same frozen protocol) gives the floor.

The study runs on the project's one orchestration path, the one of the experiment runner
``tools/experiments/sweep.py`` (the library's ``grass_mm.experiments``; this script parses the flags
into its settings and runs ``grass_mm.experiments.noisy_pairs``): every step is an ordinary config
written to ``OUT/configs/`` and run in a subprocess by ``tools/train.py``; the exact commands are
appended to ``OUT/commands.sh``.

* pretraining: ``configs/noisy_pairs/<method>_resnet50_8xb32-coslr-350e_vts-pairs.py`` with this
  study's backbone (ResNet ``--depth`` at ``--base-channels`` width, zero-initialised residual
  branches for every method, as the random-init floor), VTS pairs of ``--size`` px at the run's
  ``r_img`` and ``pair_prob``, views differing by crop / flip (``--views vts``), SGD ``--lr`` with
  cosine decay, ``--pretrain-iters``;
* evaluation: ``configs/noisy_pairs/fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py``
  (``fcn_r50-pixel-pair-pre_1xb8-4k_vts-256x256.py`` with ``--finetune``) with the same backbone
  initialised from the pretraining checkpoint (or at random), ``--eval-iters`` iterations on
  ``--eval-train`` labelled VTS images, then mmseg's IoUMetric on ``--eval-test`` other VTS images
  (mIoU, aAcc, mAcc read from mmengine's ``scalars.json``; ``tools/test.py CONFIG CHECKPOINT``
  reproduces it);
* report: ``noisy_pairs.csv`` (one row per run, with its difference to the floor),
  ``noisy_pairs.md`` (mIoU per method and noise, each method's clean-pair run marked against the
  random-init floor, and a warning line for a method whose clean pairs do not beat it by
  ``--floor-margin``: its encoder learned nothing the floor lacks) and ``noisy_pairs.png``.

A run whose result (or checkpoint) is already there is skipped, so an interrupted study resumes
when started again with the same budget flags; more ``--r-img`` / ``--noisy-share`` / ``--methods``
values extend a finished study.
"""

import sys

import grass_mm.utils.cli  # noqa: F401  (first: filters the third-party warnings of the imports below)

# isort: split
from grass_mm.experiments import SweepError, noisy_pairs
from grass_mm.experiments.cli import parse_noisy_pairs


def main(argv=None):
    return noisy_pairs.run(parse_noisy_pairs(argv, description=__doc__))


if __name__ == '__main__':
    try:
        main()
    except SweepError as err:
        sys.exit(f'error: {err}')
