#!/usr/bin/env python
"""The main job in one command: pretrain (SimCLR and GraSS) -> fine-tune -> evaluate -> table.

    python tools/quickstart.py                                   # real Dubai imagery (shipped), CPU, ~10 minutes
    python tools/quickstart.py --data ../shared/data/dubai_aerial --work-dir work_dirs/qs_dubai
    python tools/quickstart.py --dataset-config configs/_base_/datasets/potsdam.py --size 256
    python tools/quickstart.py --vts                             # the synthetic Voronoi-texture set instead
    python tools/quickstart.py --device cuda --depth 50 --pretrain-iters 5000 --finetune-iters 8000 \\
        --batch 64 --seg-batch 16 --size 256 --seeds 0 1 2

A small preset of the experiment runner ``tools/experiments/sweep.py`` (same configs, same steps,
same report; the library's ``grass_mm.experiments.quickstart``, which this script runs with its
flags): each step is an ordinary config run by ``tools/train.py`` / ``tools/test.py`` in a
subprocess; the configs are written to ``WORK_DIR/configs/`` and the exact commands to
``WORK_DIR/commands.sh``, so every step can be rerun by hand or with ``mim train``.

1. data: by default the CC0 Dubai aerial tiles shipped in ``grass_mm/demo/dubai_aerial`` (tile 6
   held out for validation), or ``--data`` / ``--dataset-config`` / ``--vts``;
2. pretraining with SimCLR and with GraSS on the training images: same backbone, data, budget
   and seed (``configs/quickstart/{simclr,grass}_resnet18_1xb16-coslr-200it_tiles-vts-64px.py``);
3. fine-tuning FCN (or UPerNet) from each checkpoint and from random initialisation: a linear probe
   (1x1 conv on the frozen encoder), the FCN head on the frozen encoder, and full fine-tuning;

The default recipe and budget are those of the committed cross-validation protocol
(``docs/protocols/cv_dubai.md``: 120 pretraining and 40 fine-tuning iterations, one data-loading worker); the
default run is its fold ``tile_6`` for random init, SimCLR and GraSS at 100% of the labels.
4. evaluation with mmseg's IoUMetric, prediction pictures, a Loss Attention Map picture of the
   GraSS checkpoint, and ``results.md`` / ``results.csv`` / ``results.png``; the report also
   prints each pretraining loss against its chance level ln(2N-1).
"""

import sys

import grass_mm.utils.cli  # noqa: F401  (first: filters the third-party warnings of the imports below)

# isort: split
from grass_mm.experiments import SweepError, quickstart
from grass_mm.experiments.cli import parse_quickstart


def main(argv=None):
    quickstart.run(parse_quickstart(argv, description=__doc__))


if __name__ == '__main__':
    try:
        main()
    except SweepError as err:
        sys.exit(f'error: {err}')
