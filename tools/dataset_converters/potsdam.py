"""ISPRS Potsdam -> mmseg layout, by mmseg's own converter (reused as is).

This wrapper (:func:`grass_mm.datasets.converters.convert_potsdam`) checks the zips first, adds the
staging and overwrite guard of the other grass_mm converters and finds the converter inside the
installed mmseg package (``mmseg/.mim/tools/dataset_converters``)::

    python tools/dataset_converters/potsdam.py /path/to/potsdam_zips -o data/potsdam

The input folder holds ``2_Ortho_RGB.zip`` and ``5_Labels_all_noBoundary.zip`` (or
``5_Labels_all.zip``); the output is img_dir/ann_dir/{train,val} (train = the 24 official
training scenes, val = the 14 official test scenes) with index masks 0 = boundary/ignore,
1..6 classes (``reduce_zero_label=True``). ``--clip_size``, ``--stride_size`` and other extra
arguments (``--tmp_dir``) go to mmseg's script. Its tiles are ``clip_size`` pixels, placed every
``clip_size`` pixels, the last row and column moved inward to end at the scene border: its
``--stride_size`` only sets how many positions it tries, so a stride above ``clip_size`` would
leave most of a scene out and is refused here.

The GraSS authors' lab split (configs/label_efficient/): the 24 training scenes cut into
256-px tiles, 24 x 24 = 576 per 6000-px scene, 13,824 in all (8,064 test tiles)::

    python tools/dataset_converters/potsdam.py /path/to/potsdam_zips -o data/potsdam_256 --clip_size 256
"""

import argparse

from grass_mm.utils.cli import run_main  # first: filters the third-party warnings

# isort: split

from grass_mm.datasets.converters import convert_potsdam


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('dataset_path', help='folder with the Potsdam zips')
    p.add_argument('-o', '--out-dir', default='data/potsdam')
    p.add_argument(
        '--overwrite', action='store_true', help='replace what a converter wrote there earlier (other files stay)'
    )
    p.add_argument('--clip_size', type=int, default=512, help='tile size in pixels (256: the lab split)')
    p.add_argument('--stride_size', type=int, default=256, help='at most --clip_size (see above)')
    a, rest = p.parse_known_args(argv)
    counts = convert_potsdam(a.dataset_path, a.out_dir, a.clip_size, a.stride_size, a.overwrite, rest)
    print(f'\nwrote {a.out_dir}: ' + ', '.join(f'{s}: {n} tiles' for s, n in counts.items()))


if __name__ == '__main__':
    run_main(main)
