#!/usr/bin/env python
"""Experiment runner: pretraining methods x label fractions x evaluation protocols x seeds.

    python tools/experiments/sweep.py                                   # demo Dubai data, CPU
    python tools/experiments/sweep.py --methods random-init SimCLR GraSS \\
        --fractions 0.1 1.0 --protocols frozen full --seeds 0 1 2 --pretrain-iters 600 \\
        --work-dir work_dirs/sweep_dubai
    python tools/experiments/sweep.py \\
        --pretrain-config MoCoV2=configs/baselines/mocov2_resnet50_8xb32-coslr-350e_tiles-potsdam.py \\
        --methods random-init SimCLR MoCoV2 GraSS --dataset-config configs/_base_/datasets/potsdam.py

Every step is an ordinary config, written to ``WORK_DIR/configs/`` and run in a subprocess by
``tools/train.py`` / ``tools/test.py``; the exact commands are appended to ``WORK_DIR/commands.sh``.
The runner is the library's (``grass_mm.experiments``: settings, configs, steps, reports); this
script parses the flags into its settings and runs it.

* pretraining: one run per (method, seed) on the training images of the dataset (never a
  validation image), same backbone, budget, batch and seed for every method;
* fine-tuning: FCN or UPerNet per (method, protocol, label fraction, seed); ``frozen`` keeps the
  pretrained encoder fixed (all stages and BN statistics), ``full`` trains the whole network.
  A fraction below 1 wraps the training set in ``LabelSubsetDataset`` with the run's seed, so all
  methods of one seed see the same labelled images;
* evaluation: mmseg's IoUMetric on the validation split at the end of each fine-tuning (the
  config's ``val_evaluator``; ``tools/test.py CONFIG CHECKPOINT`` reproduces it);
* report: ``results.csv`` (one row per run), ``results.md`` (mean ± 95% t-interval over seeds,
  and the paired differences of each pretraining vs random-init and GraSS vs SimCLR) and
  ``results.png`` (mIoU vs label fraction, one line per method, error bars).

A run whose result (or checkpoint) is already there is skipped, so an interrupted sweep resumes
when started again with the same arguments.
"""

import sys

import grass_mm.utils.cli  # noqa: F401  (first: filters the third-party warnings of the imports below)

# isort: split
from grass_mm.experiments import SweepError, sweep
from grass_mm.experiments.cli import parse_sweep


def main(argv=None):
    sweep.run(parse_sweep(argv, description=__doc__))


if __name__ == '__main__':
    try:
        main()
    except SweepError as err:
        sys.exit(f'error: {err}')
