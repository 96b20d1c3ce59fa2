"""ISPRS Potsdam zips -> mmseg layout, by mmseg's own converter (reused as is).

mmseg's ``tools/dataset_converters/potsdam.py`` (shipped in ``mmseg/.mim``) writes straight
into its output folder and fails with a traceback on a missing or corrupt zip. This wrapper
checks the input first (the zips exist and open), runs the script into a staging folder
(:func:`~grass_mm.datasets.converters.common.staged_output`: no partial output, only an
earlier converter output is ever replaced) and refuses an empty result.
"""

import glob
import os
import os.path as osp
import runpy
import sys
import zipfile
from typing import Sequence

from .common import staged_output

RGB_ZIP = '2_Ortho_RGB.zip'
LABEL_ZIPS = ('5_Labels_all_noBoundary.zip', '5_Labels_all.zip')


def mmseg_potsdam_script() -> str:
    """Path of mmseg's own Potsdam converter inside the installed mmseg package."""
    import mmseg

    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'dataset_converters', 'potsdam.py')
    if not osp.isfile(script):
        raise FileNotFoundError(f"mmseg's Potsdam converter not found at {script}")
    return script


def check_potsdam_zips(src: str) -> list:
    """The zips mmseg's converter will read (every ``*.zip`` in ``src``), each checked to open and
    to hold ``.tif`` scenes; raises FileNotFoundError / ValueError naming the folder or zip."""
    if not osp.isdir(src):
        raise FileNotFoundError(f'Potsdam folder not found: {src}')
    if not osp.isfile(osp.join(src, RGB_ZIP)):
        raise FileNotFoundError(f'{osp.join(src, RGB_ZIP)} not found (the ISPRS Potsdam image archive)')
    if not any(osp.isfile(osp.join(src, z)) for z in LABEL_ZIPS):
        raise FileNotFoundError(f'{osp.join(src, LABEL_ZIPS[0])} (or {LABEL_ZIPS[1]}) not found in {src}')
    zips = sorted(glob.glob(osp.join(src, '*.zip')))
    for path in zips:
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            raise ValueError(f'unreadable zip archive {path}: {err}') from None
        if not any(n.lower().endswith('.tif') for n in names):
            raise ValueError(f'zip archive {path} holds no .tif scene')
    return zips


def convert_potsdam(
    src: str,
    out_dir: str,
    clip_size: int = 512,
    stride_size: int = 256,
    overwrite: bool = False,
    extra_args: Sequence[str] = (),
) -> dict:
    """Convert; returns ``{'train': tiles, 'val': tiles}``.

    Args:
        src (str): Folder with ``2_Ortho_RGB.zip`` and ``5_Labels_all_noBoundary.zip`` (or
            ``5_Labels_all.zip``).
        out_dir (str): Output root (``img_dir``/``ann_dir`` ``/{train,val}``).
        clip_size (int): Tile size in pixels.
        stride_size (int): mmseg's stride, at most ``clip_size`` (its tiles are placed every
            ``clip_size`` pixels; the stride only sets how many positions it tries).
        overwrite (bool): Replace an earlier converter output in ``out_dir``.
        extra_args (Sequence[str]): More arguments of mmseg's script (``--tmp_dir``).
    """
    if not 0 < stride_size <= clip_size:
        raise ValueError(
            f"--stride_size {stride_size} must lie in 1..--clip_size ({clip_size}): mmseg's "
            'converter places tiles every clip_size pixels and would skip part of each scene'
        )
    check_potsdam_zips(src)
    script = mmseg_potsdam_script()
    argv = sys.argv
    with staged_output(out_dir, overwrite, inputs=[src]) as stage:
        sys.argv = [script, src, '-o', stage, '--clip_size', str(clip_size), '--stride_size', str(stride_size)]
        sys.argv += list(extra_args)
        try:
            runpy.run_path(script, run_name='__main__')
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001  (anything mmseg's script raises on a bad scene)
            msg = (str(err).splitlines() or [''])[0]
            raise ValueError(
                f"mmseg's Potsdam converter failed on {src} (a damaged archive or an unreadable .tif scene?): "
                f'{type(err).__name__}: {msg}'
            ) from None
        finally:
            sys.argv = argv
        counts = {
            s: len(os.listdir(osp.join(stage, 'img_dir', s))) if osp.isdir(osp.join(stage, 'img_dir', s)) else 0
            for s in ('train', 'val')
        }
        if not sum(counts.values()):
            raise ValueError(f'no Potsdam tile was written from {src} (no scene named top_potsdam_*_*.tif?)')
    return counts
