#!/usr/bin/env python
"""Paired gains of several sweeps side by side (e.g. pretraining lengths, fine-tuning recipes): a Markdown
table and a plot of gain vs label fraction, one line per comparison and sweep.

    python tools/analysis/compare_sweeps.py "200 it=work_dirs/sweep_200" "800 it=work_dirs/sweep_800" \\
        --out work_dirs/gains_vs_length

Each SWEEP_DIR is a ``tools/experiments/sweep.py`` work dir (its ``results.csv``); the gains are the sweep's own
paired differences (each pretraining - random-init and GraSS - SimCLR of the same seed and label subset). Sweeps
given the same LABEL are pooled into one line (e.g. one sweep per label fraction); a run that two of them hold
for the same method, protocol, fraction and seed is an error.

``--against LABEL`` adds what each sweep changes for the same start: a fine-tuning recipe's score of each method
minus the LABEL sweep's score of that method, paired by seed (same checkpoint, same label subset):

    python tools/analysis/compare_sweeps.py plain=work_dirs/abl_plain norm_eval=work_dirs/abl_normeval \
        --against plain --out work_dirs/recipes
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
    p.add_argument('--overwrite', action='store_true', help='replace an existing PREFIX.md / PREFIX.png')
    p.add_argument('--metric', default='mIoU', choices=['mIoU', 'OA', 'mAcc'])
    p.add_argument('--confidence', type=float, default=0.95)
    p.add_argument(
        '--against',
        metavar='LABEL',
        help='also tabulate what each other sweep changes for the same start: its score of each method minus '
        "the LABEL sweep's score of that method, paired by seed (e.g. a fine-tuning recipe against the plain one)",
    )
    args = p.parse_args(argv)
    from grass_mm.analysis.sweep_report import (
        gains_across,
        gains_markdown,
        plot_gains,
        read_sweep_csv,
        recipe_effects,
    )
    from grass_mm.runtime.outputs import check_output_files

    try:  # before anything is read or written
        check_output_files([args.out + '.md', args.out + '.png'], args.overwrite)
    except FileExistsError as err:
        sys.exit(f'error: {err}')
    try:
        sweeps = {
            label: [r for path in paths for r in read_sweep_csv(path)]
            for label, paths in parse_sweeps(args.sweeps).items()
        }
        rows = gains_across(sweeps, args.metric, args.confidence)
        effects = recipe_effects(sweeps, args.against, args.metric, args.confidence) if args.against else None
    except ValueError as err:
        sys.exit(f'error: {err}')
    if not rows:
        sys.exit('error: no paired differences: the sweeps hold no random-init (or SimCLR) runs of the same seeds')
    md = gains_markdown(rows, args.metric, args.confidence)
    if effects is not None:
        if not effects:
            sys.exit(f'error: --against {args.against}: no other sweep holds a run of its methods and seeds')
        md += f'\nEach sweep against {args.against!r}, same method, seed and label subset:\n\n'
        md += gains_markdown(effects, args.metric, args.confidence)
    with open(args.out + '.md', 'w') as f:
        f.write(md)
    plot_gains(rows, args.out + '.png', args.metric, args.confidence)
    print(md)
    print(f'wrote {args.out}.md and {args.out}.png')


if __name__ == '__main__':
    main()
