"""Outputs that never cost the user a file: owned folders, staged folders, atomic files.

Every entry point under ``tools/`` follows one rule, and these helpers carry it out:

* every input is checked before anything is written or deleted;
* a folder that a tool owns carries a marker file ``.grass_mm_<tool>`` (JSON: the tool and the
  top-level entries it wrote). A non-empty folder without the marker is refused, even with
  ``--overwrite``; ``--overwrite`` replaces only the entries the marker lists, so a file the
  user put beside them stays;
* results are written into a temporary sibling (``.NAME.partial-PID``) and renamed into place
  at the end, so a failure leaves no partial output.

Functions raise :class:`OutputError` (a ``FileExistsError``) with one line that names the path.
"""

import contextlib
import json
import os
import os.path as osp
import shutil
from typing import Iterable, Iterator, Optional, Set


class OutputError(FileExistsError):
    """An output path is taken by something the tool did not write (one line naming it)."""


def marker_path(folder: str, tool: str) -> str:
    """The marker file of ``tool`` in ``folder``: ``folder/.grass_mm_<tool>``."""
    return osp.join(folder, f'.grass_mm_{tool}')


def read_marker(folder: str, tool: str, default: Iterable[str] = ()) -> Optional[Set[str]]:
    """The entries of ``folder`` that ``tool`` wrote, or None when ``folder`` has no marker of it.

    A marker that lists nothing (an empty file, as older versions wrote) stands for ``default``.
    """
    path = marker_path(folder, tool)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            entries = json.load(f).get('entries')
    except (ValueError, AttributeError, OSError):
        entries = None
    names = set(entries) if isinstance(entries, list) else set(default)
    return {n for n in names if n and '/' not in n and n not in ('.', '..')}


def write_marker(folder: str, tool: str, entries: Iterable[str]) -> None:
    """Write the marker of ``tool`` into ``folder``, listing the top-level ``entries`` it wrote."""
    with open(marker_path(folder, tool), 'w') as f:
        json.dump(dict(tool=tool, entries=sorted(set(entries))), f, indent=1)


def _foreign(folder: str, tool: str) -> list:
    return [n for n in os.listdir(folder) if n != osp.basename(marker_path(folder, tool))]


def check_output_dir(folder: str, tool: str, overwrite: bool = False, flag: str = 'output') -> bool:
    """Check that ``tool`` may write ``folder``; writes nothing.

    Allowed: a missing or empty folder, or (with ``overwrite``) one that holds ``tool``'s marker.

    Args:
        folder (str): The output folder.
        tool (str): The tool's name (its marker is ``.grass_mm_<tool>``).
        overwrite (bool): ``--overwrite`` was given.
        flag (str): How the user named the folder in messages, e.g. ``'--work-dir'``.

    Returns:
        bool: True when the folder holds an earlier output of ``tool`` (to be replaced).

    Raises:
        OutputError: The folder is a file, holds files ``tool`` did not write, or holds an
            earlier output and ``overwrite`` is False.
    """
    if osp.exists(folder) and not osp.isdir(folder):
        raise OutputError(f'{flag} {folder} is a file, not a folder (nothing was changed)')
    if not osp.isdir(folder) or not _foreign(folder, tool):
        return False
    if read_marker(folder, tool) is None:
        raise OutputError(
            f'{flag} {folder} exists and is not empty, and no {tool} made it; choose another {flag} '
            f'(nothing was changed)'
        )
    if not overwrite:
        raise OutputError(
            f'{flag} {folder} already exists (an earlier {tool} output); pass --overwrite to replace it '
            f'(files it did not write stay) or choose another {flag}'
        )
    return True


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


def remove_owned(folder: str, tool: str, default: Iterable[str] = ()) -> list:
    """Delete the entries of ``folder`` that ``tool``'s marker lists (``default`` for an empty
    marker) and the marker; every other entry stays. Returns the removed names."""
    owned = read_marker(folder, tool, default) or set()
    removed = []
    for name in sorted(owned):
        path = osp.join(folder, name)
        if osp.lexists(path):
            _remove(path)
            removed.append(name)
    if osp.isfile(marker_path(folder, tool)):
        os.remove(marker_path(folder, tool))
    return removed


def sibling(path: str, tag: str = 'partial') -> str:
    """A hidden path beside ``path``: ``DIR/.NAME.<tag>-<pid>`` (same file system, so renames are atomic)."""
    path = osp.abspath(path)
    return osp.join(osp.dirname(path), f'.{osp.basename(path)}.{tag}-{os.getpid()}')


@contextlib.contextmanager
def staged_dir(target: str) -> Iterator[str]:
    """Yield a fresh temporary sibling of ``target``; it is removed when the block fails.

    Parent folders that did not exist are created, and removed again when the block fails.
    """
    parent = osp.dirname(osp.abspath(target))
    created = []
    p = parent
    while not osp.exists(p):
        created.append(p)
        p = osp.dirname(p)
    stage = sibling(target)
    if osp.lexists(stage):
        _remove(stage)
    os.makedirs(stage)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for p in created:  # innermost first
            with contextlib.suppress(OSError):
                os.rmdir(p)
        raise


def replace_owned(folder: str, stage: str, tool: str) -> None:
    """Move the entries of ``stage`` into ``folder``, replacing only what ``tool`` wrote there.

    ``folder`` missing: ``stage`` (with a marker) is renamed to it. Otherwise every entry the old
    marker lists is replaced (or removed, when the new output lacks it) and other entries stay.
    ``stage`` is gone afterwards.

    Raises:
        OutputError: An entry of the new output has the name of a file ``tool`` did not write
            (nothing was changed; ``stage`` is removed).
    """
    entries = sorted(os.listdir(stage))
    if not osp.isdir(folder):
        write_marker(stage, tool, entries)
        os.rename(stage, folder)
        return
    owned = read_marker(folder, tool) or set()
    clash = [n for n in entries if osp.lexists(osp.join(folder, n)) and n not in owned]
    if clash:
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputError(
            f'{osp.join(folder, clash[0])} exists and {tool} did not write it; move it away or choose '
            f'another output (nothing was changed)'
        )
    trash = sibling(folder, 'old')
    os.makedirs(trash, exist_ok=True)
    for name in sorted(owned):
        if osp.lexists(osp.join(folder, name)):
            os.rename(osp.join(folder, name), osp.join(trash, name))
    for name in entries:
        os.rename(osp.join(stage, name), osp.join(folder, name))
    write_marker(folder, tool, entries)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def owned_output(folder: str, tool: str, overwrite: bool = False, flag: str = 'output') -> Iterator[str]:
    """Check ``folder`` (:func:`check_output_dir`), yield a staging folder, and move its
    entries into ``folder`` (:func:`replace_owned`) only when the block succeeds."""
    check_output_dir(folder, tool, overwrite, flag)
    with staged_dir(folder) as stage:
        yield stage
    replace_owned(folder, stage, tool)


def check_output_files(paths: Iterable[str], overwrite: bool = False) -> None:
    """Refuse existing output files unless ``overwrite``; refuse a folder in their place always.

    Raises:
        OutputError: naming the first path that is taken.
    """
    for path in paths:
        if osp.isdir(path):
            raise OutputError(f"'{path}' is a folder; give a file name (nothing was changed)")
        if osp.lexists(path) and not overwrite:
            raise OutputError(f"'{path}' exists; pass --overwrite to replace it (nothing was changed)")


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temporary sibling file name (same extension) that replaces ``path`` when the block
    succeeds; on failure the temporary file is removed and ``path`` is left as it was."""
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = osp.join(osp.dirname(path), f'.partial-{os.getpid()}-{osp.basename(path)}')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)
