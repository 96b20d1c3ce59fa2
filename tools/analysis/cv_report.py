#!/usr/bin/env python
"""Rebuild a cross-validation report from its per-run CSV (``sweep.py --folds tiles`` writes ``results.csv``).

    python tools/analysis/cv_report.py docs/results/cv_dubai/results.csv                  # print the report
    python tools/analysis/cv_report.py docs/results/cv_dubai/results.csv --out report.md  # write it (a new file)
    python tools/analysis/cv_report.py docs/results/cv_dubai/results.csv --readme         # README's tables

The fold is the unit: seeds are averaged within a fold, then mean ± t-interval over folds and a sign test, for
each comparison of ``grass_mm.analysis.folds.CV_COMPARISONS``; mIoU, and mIoU over the classes covering >= 1% of
the fold's test pixels; per-class IoU.
"""

import argparse
import os.path as osp
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('csv', help='results.csv of a cross-validation (one row per fine-tuning run, with a fold column)')
    p.add_argument('--out', help='write the report to this new file instead of printing it')
    p.add_argument('--readme', action='store_true', help="only the tables README's evidence section shows")
    p.add_argument('--confidence', type=float, default=0.95)
    args = p.parse_args(argv)
    from grass_mm.analysis.folds import cv_markdown, read_cv_csv, readme_markdown

    if not osp.isfile(args.csv):
        sys.exit(f'error: {args.csv}: no such file')
    if args.out and osp.exists(args.out):
        sys.exit(f'error: --out {args.out} exists; choose a new file (nothing was written)')
    if not 0 < args.confidence < 1:
        sys.exit(f'error: --confidence must lie in (0, 1), got {args.confidence}')
    try:
        records = read_cv_csv(args.csv)
    except (KeyError, ValueError) as err:
        sys.exit(f'error: {args.csv}: not a cross-validation results.csv ({type(err).__name__}: {err})')
    if not records:
        sys.exit(f'error: {args.csv}: no runs')
    md = readme_markdown(records, args.confidence) if args.readme else cv_markdown(records, args.confidence)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(md)
    else:
        sys.stdout.write(md)


if __name__ == '__main__':
    main()
