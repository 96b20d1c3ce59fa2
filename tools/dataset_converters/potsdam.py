"""ISPRS Potsdam -> mmseg layout, by mmseg's own converter (reused as is).

This wrapper only adds the overwrite guard of the other grass_mm converters and finds the
converter inside the installed mmseg package (``mmseg/.mim/tools/dataset_converters``)::

    python tools/dataset_converters/potsdam.py /path/to/potsdam_zips -o data/potsdam

The input folder holds ``2_Ortho_RGB.zip`` and ``5_Labels_all_noBoundary.zip`` (or
``5_Labels_all.zip``); the output is img_dir/ann_dir/{train,val} with 512x512 crops
(stride 256) and index masks 0 = boundary/ignore, 1..6 classes (``reduce_zero_label=True``).
Extra arguments (``--clip_size``, ``--stride_size``, ``--tmp_dir``) go to mmseg's script.
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
    a, rest = p.parse_known_args(argv)
    if not osp.isdir(a.dataset_path):
        raise FileNotFoundError(f'Potsdam folder not found: {a.dataset_path}')
    if osp.isdir(a.out_dir) and os.listdir(a.out_dir) and not a.overwrite:
        raise FileExistsError(f'output {a.out_dir} already exists; pass --overwrite')
    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'dataset_converters',
                      'potsdam.py')
    if not osp.isfile(script):
        raise FileNotFoundError(f"mmseg's Potsdam converter not found at {script}")
    sys.argv = [script, a.dataset_path, '-o', a.out_dir] + rest
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f'error: {e}')
