#!/usr/bin/env python
"""Paired gains of several sweeps side by side (e.g. pretraining lengths, fine-tuning recipes): a Markdown
table and a plot of gain vs label fraction, one line per comparison and sweep.

    python tools/analysis/compare_sweeps.py "200 it=work_dirs/sweep_200" "800 it=work_dirs/sweep_800" \\
        --out work_dirs/gains_vs_length

Each SWEEP_DIR is a ``tools/experiments/sweep.py`` work dir (its ``results.csv``); the gains are the sweep's own
paired differences (each pretraining - random-init and GraSS - SimCLR of the same seed and label subset). Sweeps
given the same LABEL are pooled into one line (e.g. one sweep per label fraction); a run that two of them hold
for the same method, protocol, fraction and seed is an error.
"""

import argparse
import os.path as osp
import sys


def parse_sweeps(items):
    """``LABEL=DIR`` or ``DIR`` (label = the folder name) -> ``{label: [results.csv paths]}``; sweeps given the
    same label are one line (e.g. one sweep per label fraction)."""
    out = {}
    for item in items:
        label, sep, path = item.partition('=')
        if not sep:
            label, path = osp.basename(osp.normpath(item)), item
        csv_path = osp.join(path, 'results.csv')
        if not osp.isfile(csv_path):
            raise ValueError(f'{path}: no results.csv (not a finished sweep; run sweep.py --report-only there)')
        out.setdefault(label, []).append(csv_path)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('sweeps', nargs='+', metavar='[LABEL=]SWEEP_DIR')
    p.add_argument('--out', required=True, help='output prefix: writes PREFIX.md and PREFIX.png')
    p.add_argument('--metric', default='mIoU', choices=['mIoU', 'OA', 'mAcc'])
    p.add_argument('--confidence', type=float, default=0.95)
    args = p.parse_args(argv)
    from grass_mm.analysis.sweep_report import gains_across, gains_markdown, plot_gains, read_sweep_csv

    try:
        sweeps = {
            label: [r for path in paths for r in read_sweep_csv(path)]
            for label, paths in parse_sweeps(args.sweeps).items()
        }
        rows = gains_across(sweeps, args.metric, args.confidence)
    except ValueError as err:
        sys.exit(f'error: {err}')
    if not rows:
        sys.exit('error: no paired differences: the sweeps hold no random-init (or SimCLR) runs of the same seeds')
    md = gains_markdown(rows, args.metric, args.confidence)
    with open(args.out + '.md', 'w') as f:
        f.write(md)
    plot_gains(rows, args.out + '.png', args.metric, args.confidence)
    print(md)
    print(f'wrote {args.out}.md and {args.out}.png')


if __name__ == '__main__':
    main()
