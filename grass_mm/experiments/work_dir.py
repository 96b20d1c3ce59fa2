"""Work dirs of the studies: the settings marker of a sweep (resume only with the same settings), reusing
another sweep's pretraining, and the quickstart's owned folder (``--overwrite`` removes only its outputs).

The marker ``WORK_DIR/.grass_mm_sweep`` is the JSON object of the study's recorded settings
(:meth:`~grass_mm.experiments.settings.StudySettings.marker`), as every version of the runner wrote it.
"""

import json
import os
import os.path as osp
import shutil
from typing import Iterable, Optional

from .settings import RANDOM_INIT, SUPERVISED, SettingsError, StudySettings, SweepError, SweepSettings

MARKER = '.grass_mm_sweep'


def read_settings_marker(work_dir: str, cls: type = SweepSettings) -> Optional[dict]:
    """The marker of ``work_dir`` as settings of ``cls`` read it (every recorded key, see
    :meth:`~grass_mm.experiments.settings.StudySettings.stored`), or None when the folder has none.

    Raises:
        SweepError: the marker does not read, or holds a key that is no recorded setting (naming it).
    """
    path = osp.join(work_dir, MARKER)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            marker = json.load(f)
    except (OSError, ValueError) as err:
        raise SweepError(f'{path}: not a settings marker ({type(err).__name__}: {err})'.splitlines()[0]) from None
    return cls.stored(marker, source=path)


def write_settings_marker(work_dir: str, settings: StudySettings) -> None:
    with open(osp.join(work_dir, MARKER), 'w') as f:
        json.dump(settings.marker(), f, indent=1)


def prepare_work_dir(work_dir: str, settings: StudySettings) -> bool:
    """A new or empty folder (marked now), or an earlier study with the same settings (returns True: resumed).

    Raises:
        SweepError: a file, a foreign non-empty folder, or a study with other settings (naming them).
    """
    if osp.exists(work_dir) and not osp.isdir(work_dir):
        raise SweepError(f'--work-dir {work_dir} is a file')
    if osp.isdir(work_dir) and os.listdir(work_dir):
        try:
            before = read_settings_marker(work_dir, type(settings))
        except SettingsError as err:
            raise SweepError(f'--work-dir {work_dir}: {err}') from None
        if before is None:
            raise SweepError(
                f'--work-dir {work_dir} exists and is not empty, and no sweep made it; '
                f'choose another --work-dir (nothing was changed)'
            )
        changed = settings.changed(before)
        if changed:
            what = ', '.join(f'{k}: {a!r} -> {b!r}' for k, (a, b) in changed.items())
            raise SweepError(
                f'--work-dir {work_dir} holds a sweep with other settings ({what}); '
                f'use another --work-dir to change them'
            )
        return True
    os.makedirs(work_dir, exist_ok=True)
    write_settings_marker(work_dir, settings)
    return False


def undo_work_dir(work_dir: str, existed: bool) -> None:
    """Leave nothing behind after a failed start: remove the folder, or empty it again (it was empty)."""
    if not existed:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    for name in os.listdir(work_dir):
        path = osp.join(work_dir, name)
        shutil.rmtree(path) if osp.isdir(path) else os.remove(path)


def pretrain_dir(s: SweepSettings, work_dir: str, method: str, seed: int) -> str:
    """Where the pretraining of ``(method, seed)`` runs: this work dir, or the ``--reuse-pretraining`` sweep."""
    return osp.join(s.reuse_pretraining or work_dir, 'pretrain', method.lower(), f'seed{seed}')


def check_reuse(s: SweepSettings) -> None:
    """``--reuse-pretraining DIR``: DIR is a sweep whose pretraining settings equal these ones, and it holds
    the final checkpoint of every (method, seed) this sweep needs (``--report-only`` lists the missing ones as
    not run yet)."""
    src = s.reuse_pretraining
    try:
        theirs = read_settings_marker(src, type(s))
    except SettingsError as err:
        raise SweepError(f'--reuse-pretraining {src}: {err}') from None
    if theirs is None:
        raise SweepError(f'--reuse-pretraining {src}: not a sweep work dir (no {MARKER})')
    changed = s.changed(theirs, s.PRETRAIN_KEYS)
    changed = [f'{k}: {a!r} there, {b!r} here' for k, (a, b) in changed.items()]
    if changed:
        raise SweepError(f'--reuse-pretraining {src}: other pretraining settings ({"; ".join(changed)})')
    missing = [
        osp.join(pretrain_dir(s, '', m, seed), f'iter_{s.pretrain_iters}.pth')
        for seed in s.seeds
        for m in s.methods
        if m not in (RANDOM_INIT, SUPERVISED)
    ]
    missing = [p for p in missing if not osp.isfile(p)]
    if missing and not s.report_only:
        raise SweepError(f'--reuse-pretraining {src}: no finished pretraining {missing[0]} ({len(missing)} missing)')


# ----------------------------------------------------------------------------- the quickstart's folder
QUICKSTART = 'quickstart'
#: what a quickstart writes into its work dir; ``--overwrite`` removes these and nothing else
QUICKSTART_OUTPUTS = (
    'configs',
    'commands.sh',
    'pretrain',
    'finetune',
    'pictures',
    'data',
    'results.md',
    'results.csv',
    'results.png',
    'lam_dar.png',
    'README.md',
)


def check_quickstart_dir(work_dir: str, overwrite: bool) -> bool:
    """A new or empty folder, or an earlier quickstart's folder with ``--overwrite`` (returns True);
    writes nothing."""
    from grass_mm.runtime.outputs import OutputError, check_output_dir

    try:
        return check_output_dir(work_dir, QUICKSTART, overwrite, '--work-dir')
    except OutputError as err:
        raise SweepError(str(err)) from None


def inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies in it (links resolved)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_inputs_kept(work_dir: str, inputs: Iterable[Optional[str]]) -> None:
    """Refuse ``--overwrite`` when an input lies inside what it would remove (e.g. ``--data`` in the
    earlier quickstart's ``data/``)."""
    for path in filter(None, inputs):
        for name in QUICKSTART_OUTPUTS:
            if inside(path, osp.join(work_dir, name)):
                raise SweepError(
                    f'{path} lies in {osp.join(work_dir, name)}, which --overwrite would remove; '
                    f'copy it elsewhere or choose another --work-dir (nothing was changed)'
                )


def prepare_quickstart_dir(work_dir: str, overwrite: bool) -> None:
    """Make ``work_dir`` ready: remove an earlier quickstart's outputs (``--overwrite``; the user's
    other files stay) and mark the folder. Call only after every input was checked."""
    from grass_mm.runtime.outputs import remove_owned, write_marker

    if check_quickstart_dir(work_dir, overwrite):
        remove_owned(work_dir, QUICKSTART, QUICKSTART_OUTPUTS)
    os.makedirs(work_dir, exist_ok=True)
    write_marker(work_dir, QUICKSTART, QUICKSTART_OUTPUTS)
