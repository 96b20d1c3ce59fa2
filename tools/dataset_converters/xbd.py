"""Convert xBD (official layout {split}/images/*.png + {split}/labels/*.json) to mmseg layout,
rasterizing the building polygons: --task building (pre images, 0/1) or --task damage
(post images, 0 background, 1..4 no/minor/major damage, destroyed, 255 un-classified).

Example::

    python tools/dataset_converters/xbd.py /path/to/xBD -o data/xbd_mmseg --task building
"""

import argparse
import json

from grass_mm.utils.cli import run_main  # first: filters the third-party warnings

# isort: split

from grass_mm.datasets.converters import convert_xbd


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='xBD root holding {split}/images and {split}/labels')
    p.add_argument('-o', '--out-dir', default='data/xbd_mmseg', help='output root')
    p.add_argument('--task', choices=['building', 'damage'], default='building')
    p.add_argument('--splits', nargs='+', default=None, help='splits (default: all found)')
    p.add_argument(
        '--overwrite', action='store_true', help='replace what a converter wrote there earlier (other files stay)'
    )
    p.add_argument('--skip-missing', action='store_true', help='skip images without pre/post twin with a warning')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    stats = convert_xbd(a.src, a.out_dir, a.task, a.splits, a.overwrite, 'skip' if a.skip_missing else 'error')
    print(f'\nwrote {a.out_dir}:\n{json.dumps(stats, indent=1)}')


if __name__ == '__main__':
    run_main(main)
