"""``grass_mm::`` configs: what mmengine 0.10 needs to inherit grass_mm's configs from anywhere.

A config outside this repository inherits grass_mm's configs the way it inherits mmseg's::

    _base_ = ['grass_mm::quickstart/fcn_r18_1xb4-150it_vts-128x128.py']

mmengine resolves ``PACKAGE::PATH`` in ``<package>/.mim/configs/PATH`` (``setup.py`` links or copies
``configs/``, ``tools/`` and ``model-index.yml`` there) and reads ``<package>/.mim/model-index.yml``.
Three things in mmengine 0.10.7 stand in the way of a package that is not one of OpenMMLab's own;
:func:`install_external_config_support` (run when grass_mm is imported) handles each:

1. ``mmengine.config.utils._get_package_and_cfg_path`` asserts that the prefix is a key of
   ``MODULE2PACKAGE`` (the module -> pip name table of OpenMMLab's packages; mmengine has no other
   registration mechanism): :func:`register_mim_package` adds ``grass_mm``. Hence ``import grass_mm``
   (or ``custom_imports``, which mmengine applies only after it has read the bases) must come before
   the config is read, as ``tools/train.py`` and ``tools/test.py`` do.
2. ``mmengine.utils.get_installed_path`` joins the distribution's location (site-packages) and the
   module name. For a PEP 660 editable install (``pip install -e .`` with setuptools >= 64; since
   setuptools 80 ``setup.py develop`` is one too) the package is not there but in the checkout, so
   mmengine looks for ``site-packages/grass_mm/.mim`` and fails. :func:`install_editable_path_fix`
   makes mmengine's config and hub modules fall back on the import system's location when the
   folder it computed does not exist; an answer that exists is kept unchanged.
3. mmengine marks every dict of a ``PACKAGE::`` base that has a ``type`` with ``_scope_=PACKAGE``, so
   that it is built in that package's registries. grass_mm has no registries of its own: its modules
   are registered in mmseg's and mmpretrain's, and each of its configs names the scope it runs in
   (``default_scope``). :func:`drop_package_scope` removes the ``_scope_='grass_mm'`` marks, so that
   those dicts are built in the config's ``default_scope`` (and a ``norm_cfg`` does not pass
   ``_scope_`` on to a norm layer); :func:`grass_mm.runtime.read_config` applies it to every config
   that the tools read.

``mim train grass_mm CONFIG`` runs ``grass_mm/.mim/tools/train.py`` from the location that mim
computes the same way as in 2. (mim does not import grass_mm): for an editable install run it with
the checkout on ``PYTHONPATH`` (as ``tools/dist_train.sh`` does), or run ``python tools/train.py``.
"""

import functools
import importlib.util
import os.path as osp

#: the prefix of grass_mm's configs in ``_base_`` (``grass_mm::path/to/config.py``), = the module name
PACKAGE = 'grass_mm'
#: the pip distribution of grass_mm (``setup.py`` ``name``)
DISTRIBUTION = 'grass_mm'


def register_mim_package() -> None:
    """Let mmengine resolve ``grass_mm::`` configs: add grass_mm to its module -> package table.

    ``MODULE2PACKAGE`` is the table that ``_get_package_and_cfg_path`` asserts against (``PKG2PROJECT``
    is the same dict under its deprecated name). An entry that is already there is left unchanged.
    """
    from mmengine.config.utils import MODULE2PACKAGE

    MODULE2PACKAGE.setdefault(PACKAGE, DISTRIBUTION)


def editable_aware(get_installed_path):
    """Wrap mmengine's ``get_installed_path`` so that it also finds an editable (PEP 660) install.

    The wrapper returns what ``get_installed_path`` returns when that folder exists. Otherwise
    (the distribution's metadata is in site-packages, the package in a checkout) it returns the
    folder of the package that ``import`` would load; if there is none, the original answer.

    Args:
        get_installed_path (callable): ``mmengine.utils.get_installed_path``.

    Returns:
        callable: the wrapper (marked with ``grass_mm_editable_fix``, so it is applied once).
    """
    if getattr(get_installed_path, 'grass_mm_editable_fix', False):
        return get_installed_path

    @functools.wraps(get_installed_path)
    def wrapper(package: str) -> str:
        path = get_installed_path(package)
        if osp.isdir(path):
            return path
        try:
            spec = importlib.util.find_spec(osp.basename(path))
        except (ImportError, ValueError):
            return path
        if spec is not None and spec.origin is not None and osp.basename(spec.origin) == '__init__.py':
            return osp.dirname(spec.origin)
        return path

    wrapper.grass_mm_editable_fix = True
    return wrapper


def install_editable_path_fix() -> None:
    """Make mmengine's ``PACKAGE::`` resolution (configs, ``mmengine.hub``) see editable installs.

    Replaces the ``get_installed_path`` that :mod:`mmengine.config.config` and
    :mod:`mmengine.hub.hub` imported with :func:`editable_aware` of it. Idempotent.
    """
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module

    for module in (config_module, hub_module):
        module.get_installed_path = editable_aware(module.get_installed_path)


def drop_package_scope(cfg, package: str = PACKAGE) -> int:
    """Remove the ``_scope_=package`` marks that mmengine put on the dicts of ``package::`` bases.

    grass_mm's modules live in mmseg's and mmpretrain's registries, not in a ``grass_mm`` scope;
    without the mark, such a dict is built in the config's ``default_scope`` like the rest of it.
    Marks of other packages (``_scope_='mmseg'`` of an ``mmseg::`` base) stay.

    Args:
        cfg (Config | dict | list | tuple): the config, changed in place.
        package (str): the scope to remove. Defaults to ``'grass_mm'``.

    Returns:
        int: how many marks were removed.
    """
    if isinstance(cfg, dict) or hasattr(cfg, '_cfg_dict'):
        removed = 0
        if cfg.get('_scope_') == package:
            cfg.pop('_scope_')
            removed += 1
        return removed + sum(drop_package_scope(value, package) for value in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return sum(drop_package_scope(value, package) for value in cfg)
    return 0


def install_external_config_support() -> None:
    """Everything mmengine needs to read ``grass_mm::`` configs in this process (see the module doc)."""
    register_mim_package()
    install_editable_path_fix()
