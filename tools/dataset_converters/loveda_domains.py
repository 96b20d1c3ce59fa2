"""Convert LoveDA (official Train/Val/Test zips or extracted folders) to mmseg layout,
keeping Urban and Rural apart: {out}/{urban,rural}/{img_dir,ann_dir}/{train,val,test}.

Example::

    python tools/dataset_converters/loveda_domains.py /path/to/LoveDA -o data/loveDA_domains
"""

import argparse

from grass_mm.utils.cli import run_main  # first: filters the third-party warnings

# isort: split

from grass_mm.datasets.converters import convert_loveda_domains


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder with Train.zip/Val.zip[/Test.zip] or Train/Val[/Test] folders')
    p.add_argument('-o', '--out-dir', default='data/loveDA_domains', help='output root')
    p.add_argument(
        '--overwrite', action='store_true', help='replace what a converter wrote there earlier (other files stay)'
    )
    p.add_argument(
        '--skip-missing', action='store_true', help='skip images without mask (and the reverse) with a warning'
    )
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    stats = convert_loveda_domains(a.src, a.out_dir, a.overwrite, 'skip' if a.skip_missing else 'error')
    print(f'\nwrote {a.out_dir}: ' + ', '.join(f'{d}/{s}: {n}' for (d, s), n in sorted(stats.items())))


if __name__ == '__main__':
    run_main(main)
