"""Where the configs and tools of grass_mm are, installed or not.

OpenMMLab packages ship their ``configs/`` and ``tools/`` inside the package, under
``<package>/.mim/`` (links to the repository folders for an editable install, copies in a
wheel; see ``setup.py``). mmengine resolves ``grass_mm::path/to/config.py`` and ``mim train
grass_mm`` there. These helpers give the same folders to Python code, and fall back on the
repository's own ``configs/`` and ``tools/`` for a checkout where ``setup.py`` has not created
``grass_mm/.mim`` yet (before ``pip install -e .``).

Example:
    >>> from grass_mm.utils.package_paths import config_path
    >>> config_path('quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py')  # doctest: +SKIP
    '.../grass_mm/.mim/configs/quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py'
"""

import os.path as osp

#: the package folder (``.../grass_mm``)
PACKAGE_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def mim_root() -> str:
    """The ``grass_mm/.mim`` folder (it may not exist in a checkout before ``pip install -e .``)."""
    return osp.join(PACKAGE_ROOT, '.mim')


def _resource_root(name: str) -> str:
    """``grass_mm/.mim/<name>`` when present, else ``<repository>/<name>``.

    Raises:
        FileNotFoundError: neither folder exists (a broken install).
    """
    candidates = (osp.join(mim_root(), name), osp.join(osp.dirname(PACKAGE_ROOT), name))
    for folder in candidates:
        if osp.isdir(folder):
            return folder
    raise FileNotFoundError(
        f"grass_mm's {name}/ folder is missing: looked in {' and '.join(candidates)} "
        '(reinstall grass_mm: pip install -e . in a checkout, or pip install grass_mm)'
    )


def configs_root() -> str:
    """The folder of grass_mm's configs: ``grass_mm/.mim/configs``, else the checkout's ``configs/``."""
    return _resource_root('configs')


def tools_root() -> str:
    """The folder of grass_mm's tools: ``grass_mm/.mim/tools``, else the checkout's ``tools/``."""
    return _resource_root('tools')


def config_path(rel: str) -> str:
    """The absolute path of config ``rel`` (relative to the configs folder, as after ``grass_mm::``).

    Args:
        rel (str): e.g. ``'quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py'``; a leading ``'grass_mm::'``
            is accepted and dropped.

    Returns:
        str: the path of the config file.

    Raises:
        FileNotFoundError: the config does not exist.
    """
    if rel.startswith('grass_mm::'):
        rel = rel[len('grass_mm::') :]
    path = osp.join(configs_root(), rel)
    if not osp.isfile(path):
        raise FileNotFoundError(f"grass_mm config '{rel}' does not exist (looked for {path})")
    return path


def tool_path(rel: str) -> str:
    """The absolute path of tool ``rel`` (relative to the tools folder, e.g. ``'train.py'``).

    Raises:
        FileNotFoundError: the tool does not exist.
    """
    path = osp.join(tools_root(), rel)
    if not osp.isfile(path):
        raise FileNotFoundError(f"grass_mm tool '{rel}' does not exist (looked for {path})")
    return path
