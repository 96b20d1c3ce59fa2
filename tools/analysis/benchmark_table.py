#!/usr/bin/env python
"""Paper-style table of finished segmentation runs: rows = methods, columns = datasets x
{mIoU, OA (aAcc), mAcc}, plus each method's mean gain over each baseline; Markdown and CSV.

    python tools/analysis/benchmark_table.py work_dirs/upernet_* --out work_dirs/benchmark
    python tools/analysis/benchmark_table.py GraSS@Potsdam=work_dirs/a SimCLR@Potsdam=work_dirs/b

A run is an mmengine work dir; its newest ``tools/test.py`` result is used, else the last
validation of its training. Labels come from ``METHOD[@DATASET]=DIR`` when given, else from the
config dumped in the work dir (``grass_mm_meta``, else the pretraining run named by
``model.backbone.init_cfg.checkpoint`` or ``random-init``, and the training dataset's type).
Runs with the same method and dataset are averaged (``n=`` in the table).
"""

import argparse

from grass_mm.utils.cli import fail  # first: filters the third-party warnings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('runs', nargs='+', metavar='WORK_DIR', help='DIR, METHOD=DIR or METHOD@DATASET=DIR')
    p.add_argument('--out', help='output prefix: writes PREFIX.md and PREFIX.csv')
    p.add_argument('--overwrite', action='store_true', help='replace an existing PREFIX.md / PREFIX.csv')
    p.add_argument(
        '--baselines', nargs='*', help='methods to compute gains against (default: every method not named GraSS*)'
    )
    args = p.parse_args(argv)
    from grass_mm.analysis import ResultsNotFoundError, benchmark_table

    try:
        md = benchmark_table(args.runs, args.out, args.baselines, args.overwrite)
    except (ResultsNotFoundError, FileExistsError, ValueError) as err:
        fail(str(err), code=1)
    print(md)
    if args.out:
        print(f'wrote {args.out}.md and {args.out}.csv')


if __name__ == '__main__':
    main()
