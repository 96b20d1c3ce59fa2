"""ISPRS Potsdam -> mmseg layout, by mmseg's own converter (reused as is).

This wrapper only adds the overwrite guard of the other grass_mm converters and finds the
converter inside the installed mmseg package (``mmseg/.mim/tools/dataset_converters``)::

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
import os
import os.path as osp
import runpy
import sys

import mmseg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('dataset_path', help='folder with the Potsdam zips')
    p.add_argument('-o', '--out-dir', default='data/potsdam')
    p.add_argument('--overwrite', action='store_true', help='write into an existing output')
    p.add_argument('--clip_size', type=int, default=512, help='tile size in pixels (256: the lab split)')
    p.add_argument('--stride_size', type=int, default=256, help='at most --clip_size (see above)')
    a, rest = p.parse_known_args(argv)
    if not 0 < a.stride_size <= a.clip_size:
        raise ValueError(
            f"--stride_size {a.stride_size} must lie in 1..--clip_size ({a.clip_size}): mmseg's "
            'converter places tiles every clip_size pixels and would skip part of each scene'
        )
    if not osp.isdir(a.dataset_path):
        raise FileNotFoundError(f'Potsdam folder not found: {a.dataset_path}')
    if osp.isdir(a.out_dir) and os.listdir(a.out_dir) and not a.overwrite:
        raise FileExistsError(f'output {a.out_dir} already exists; pass --overwrite')
    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'dataset_converters', 'potsdam.py')
    if not osp.isfile(script):
        raise FileNotFoundError(f"mmseg's Potsdam converter not found at {script}")
    sys.argv = [
        script,
        a.dataset_path,
        '-o',
        a.out_dir,
        '--clip_size',
        str(a.clip_size),
        '--stride_size',
        str(a.stride_size),
    ] + rest
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f'error: {e}')
