"""Convert the Dubai aerial imagery (Kaggle layout, colour masks) to mmseg index masks.

Example::

    python tools/dataset_converters/dubai_aerial.py ../shared/data/dubai_aerial -o data/dubai_aerial
"""

import argparse
import json

from grass_mm.utils.cli import run_main  # first: filters the third-party warnings

# isort: split

from grass_mm.datasets.converters import convert_dubai_aerial


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder with tile_N/{images,masks}')
    p.add_argument('-o', '--out-dir', default='data/dubai_aerial', help='output root')
    p.add_argument('--val-tiles', nargs='*', default=['tile_6'], help='tiles of the val split')
    p.add_argument(
        '--overwrite', action='store_true', help='replace what a converter wrote there earlier (other files stay)'
    )
    p.add_argument(
        '--skip-missing', action='store_true', help='skip images without mask (and the reverse) with a warning'
    )
    p.add_argument(
        '--unknown-as-ignore', action='store_true', help='map colours outside the palette to 255 instead of failing'
    )
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    counts = convert_dubai_aerial(
        a.src,
        a.out_dir,
        a.val_tiles,
        a.overwrite,
        'skip' if a.skip_missing else 'error',
        'ignore' if a.unknown_as_ignore else 'error',
    )
    print(f'\nwrote {a.out_dir}; pixels per class:\n{json.dumps(counts, indent=1)}')


if __name__ == '__main__':
    run_main(main)
