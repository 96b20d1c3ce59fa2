"""Write the synthetic Voronoi-texture set (VTS) to disk: img_dir, ann_dir and pair_dir
(noisy twins) for train (seed) and val (seed + 1). Deterministic from (seed, index).

Example::

    python tools/dataset_converters/vts.py -o data/vts --num-train 1000 --num-val 100 --r-img 0.5
"""

import argparse

from grass_mm.utils.cli import run_main  # first: filters the third-party warnings

# isort: split

from grass_mm.datasets.converters import write_vts


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-o', '--out-dir', default='data/vts', help='output root')
    p.add_argument('--num-train', type=int, default=1000)
    p.add_argument('--num-val', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--r-img', type=float, default=0.5, help='fraction of noisy cells in the twin')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--num-cells', type=int, default=20)
    p.add_argument(
        '--overwrite', action='store_true', help='replace what a converter wrote there earlier (other files stay)'
    )
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    n = write_vts(a.out_dir, a.num_train, a.num_val, a.seed, a.r_img, a.size, a.num_cells, a.overwrite)
    print(f'\nwrote {a.out_dir}: {n}')


if __name__ == '__main__':
    run_main(main)
