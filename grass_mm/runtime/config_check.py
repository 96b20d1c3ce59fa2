"""Checks that run before a runner is built, so that a wrong config stops with one clear line.

mmengine reports an unknown ``type`` or a missing folder from deep inside the build, often
after minutes of start-up. :func:`check_config` walks the config first and raises
:class:`ConfigCheckError` naming the config key and the offending value:

* every ``type='Name'`` must be registered in the mmengine, mmseg or mmpretrain registries
  (or be an importable ``package.Name``);
* every ``data_root`` (and ``data_prefix`` folder under it) of the dataloaders that will run
  must exist;
* ``load_from``, ``resume=<path>`` and every ``init_cfg=dict(type='Pretrained', checkpoint=...)``
  or ``pretrained=`` path must exist (URLs are left to mmengine).

:func:`check_cfg_options` checks the keys of ``--cfg-options`` against the loaded config before
they are merged (mmengine would add a misspelt key silently): an unknown top-level key, or a
missing nested key that the module there does not take (its ``__init__`` signature, through
``**kwargs`` to its base classes), is named with the nearest valid key.
"""

import difflib
import functools
import inspect
import os.path as osp
import pydoc
from typing import Iterable, Iterator, Optional, Tuple

from mmengine.registry import Registry

REMOTE_PREFIXES = (
    'http://',
    'https://',
    'open-mmlab://',
    'openmmlab://',
    'torchvision://',
    'mmcls://',
    'mmpretrain://',
    'modelzoo://',
    's3://',
    'pavi://',
)


class ConfigCheckError(ValueError):
    """A config names something that does not exist."""


@functools.lru_cache(maxsize=None)
def _registries() -> tuple:
    """Every registry of mmengine, mmseg, mmpretrain (all modules registered, grass_mm's too)."""
    import mmengine.registry as mme_reg
    import mmpretrain.registry as mmpre_reg
    import mmseg.registry as mmseg_reg
    from mmpretrain.utils import register_all_modules as register_pretrain
    from mmseg.utils import register_all_modules as register_seg

    register_seg(init_default_scope=False)
    register_pretrain(init_default_scope=False)
    import mmpretrain.visualization  # noqa: F401  (not imported by register_all_modules)
    import mmseg.visualization  # noqa: F401

    import grass_mm  # noqa: F401  (registers the package's own modules)

    return tuple(
        obj for mod in (mme_reg, mmseg_reg, mmpre_reg) for obj in vars(mod).values() if isinstance(obj, Registry)
    )


def _registered_names() -> set:
    return {name for registry in _registries() for name in registry.module_dict}


def _walk(node, path: str) -> Iterator[Tuple[str, dict]]:
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            if not str(k).startswith('_'):
                yield from _walk(v, f'{path}.{k}' if path else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk(v, f'{path}[{i}]')


def _is_remote(path: str) -> bool:
    return path.startswith(REMOTE_PREFIXES)


def check_types(cfg) -> None:
    names = _registered_names()
    for path, node in _walk(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, ''):
        t = node.get('type')
        if not isinstance(t, str):
            continue
        short = t.split('.')[-1]
        if t in names or short in names or ('.' in t and pydoc.locate(t) is not None):
            continue
        hint = difflib.get_close_matches(short, names, n=3)
        hint = f'; did you mean {" or ".join(repr(h) for h in hint)}?' if hint else ''
        raise ConfigCheckError(
            f"config key '{path}.type': '{t}' is not a registered module "
            f'(searched the mmengine, mmseg, mmpretrain and grass_mm registries){hint}'
        )


def _dataloader_keys(cfg, mode: str):
    if mode == 'train':
        keys = ['train_dataloader']
        if cfg.get('val_cfg') and cfg.get('val_dataloader'):
            keys.append('val_dataloader')
        return keys
    return ['test_dataloader']


def check_data_roots(cfg, mode: str = 'train') -> None:
    for key in _dataloader_keys(cfg, mode):
        loader = cfg.get(key)
        if not loader:
            continue
        for path, node in _walk(loader.get('dataset', {}), f'{key}.dataset'):
            root = node.get('data_root')
            if isinstance(root, str) and root and not _is_remote(root):
                if not osp.isdir(root):
                    raise ConfigCheckError(f"config key '{path}.data_root': folder '{root}' does not exist")
                prefix = node.get('data_prefix')
                items = prefix.items() if isinstance(prefix, dict) else [('', prefix)]
                for name, sub in items:
                    if isinstance(sub, str) and sub and not osp.isabs(sub):
                        full = osp.join(root, sub)
                        if not osp.exists(full):
                            dotted = f'.{name}' if name else ''
                            raise ConfigCheckError(f"config key '{path}.data_prefix{dotted}': '{full}' does not exist")


def check_checkpoints(cfg) -> None:
    candidates = []
    if isinstance(cfg.get('load_from'), str):
        candidates.append(('load_from', cfg.load_from))
    if isinstance(cfg.get('resume'), str):
        candidates.append(('resume', cfg.resume))
    for path, node in _walk(cfg.get('model', {}), 'model'):
        if node.get('type') == 'Pretrained' and isinstance(node.get('checkpoint'), str):
            candidates.append((f'{path}.checkpoint', node['checkpoint']))
        if isinstance(node.get('pretrained'), str):
            candidates.append((f'{path}.pretrained', node['pretrained']))
    for key, ckpt in candidates:
        if not _is_remote(ckpt) and not osp.isfile(osp.expanduser(ckpt)):
            raise ConfigCheckError(f"config key '{key}': checkpoint file '{ckpt}' does not exist")


def check_config(cfg, mode: str = 'train') -> None:
    """Run every check; raises :class:`ConfigCheckError` with one line naming the key.

    Args:
        cfg (Config | dict): The full runner config.
        mode (str): ``'train'`` checks the train (and val) dataloaders, ``'test'`` the test one.
    """
    if mode not in ('train', 'test'):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    check_types(cfg)
    check_data_roots(cfg, mode)
    check_checkpoints(cfg)


# ---------------------------------------------------------------- --cfg-options keys
#: top-level keys that mmengine's Runner (or the tools) read besides the arguments of ``Runner.__init__``
RUNNER_EXTRA_KEYS = (
    'runner_type',
    'model_wrapper_cfg',
    'find_unused_parameters',
    'compile',
    'custom_imports',
    'tta_model',
    'tta_pipeline',
    'trusted_checkpoints',
    'dist_params',
)
#: keys the builder of the node at a config path pops before the class sees the rest
BUILDER_KEYS = {'optim_wrapper': ('constructor', 'paramwise_cfg')}
#: a config node's sub-keys that any module builder accepts
ANY_NODE_KEYS = ('type', '_scope_')


def _init_params(obj) -> Tuple[set, bool]:
    """``(names, open)``: the keyword arguments ``obj`` (class or function) takes, following
    ``**kwargs`` up the base classes; ``open`` when some ``**kwargs`` reach no known signature."""
    if not inspect.isclass(obj):
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return set(), True
        return {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}, any(
            p.kind == p.VAR_KEYWORD for p in params
        )
    import torch

    names = set()
    for klass in obj.__mro__:
        if klass in (object, torch.nn.Module) or '__init__' not in vars(klass):
            continue
        try:
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        except (TypeError, ValueError):
            return names, True
        names.update(p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names, False
    return names, True


def _module_params(type_) -> Tuple[set, bool]:
    """Keyword arguments of every registered module named ``type_`` (mmseg and mmpretrain may each
    register one); ``open`` when one of them takes unknown ``**kwargs`` or none is found."""
    if not isinstance(type_, str):
        return _init_params(type_) if callable(type_) else (set(), True)
    short = type_.split('.')[-1]
    found = [r.module_dict[short] for r in _registries() if short in r.module_dict]
    if not found and '.' in type_ and pydoc.locate(type_) is not None:
        found = [pydoc.locate(type_)]
    if not found:
        return set(), True
    names, is_open = set(), False
    for obj in found:
        n, o = _init_params(obj)
        names |= n
        is_open |= o
    return names, is_open


def _schema(path: str, node: dict) -> Tuple[set, bool]:
    """``(valid keys, open)`` of the config node at ``path`` (keys it has are always valid)."""
    from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop
    from torch.utils.data import DataLoader

    if 'type' in node:
        names, is_open = _module_params(node['type'])
        return names | set(BUILDER_KEYS.get(path, ())) | set(ANY_NODE_KEYS), is_open
    if path in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        return _init_params(DataLoader)[0] | {'num_batch_per_epoch'}, False
    loops = {
        'train_cfg': (EpochBasedTrainLoop, IterBasedTrainLoop),
        'val_cfg': (ValLoop,),
        'test_cfg': (TestLoop,),
    }
    if path in loops:
        names = {n for loop in loops[path] for n in _init_params(loop)[0]} - {'runner', 'dataloader', 'evaluator'}
        return names | {'by_epoch', 'type', 'fp16'}, False
    if path == '':
        from mmengine.runner import Runner

        return (_init_params(Runner)[0] - {'cfg'}) | set(RUNNER_EXTRA_KEYS), False
    return set(), True


def _suggest(key: str, candidates: Iterable[str], cutoff: float = 0.6) -> list:
    return difflib.get_close_matches(key, sorted(set(candidates)), n=1, cutoff=cutoff)


def _check_option(cfg: dict, dotted: str, source: str) -> None:
    parts = dotted.split('.')
    node, path = cfg, ''
    for depth, part in enumerate(parts):
        shown = '.'.join(parts[: depth + 1])
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigCheckError(
                    f"--cfg-options key '{dotted}': '{path}' is a list of {len(node)}; '{part}' is not an index of it"
                )
            node, path = node[int(part)], shown
            continue
        if not isinstance(node, dict):
            raise ConfigCheckError(
                f"--cfg-options key '{dotted}': config key '{path}' is {type(node).__name__} {node!r}, not a dict"
            )
        if part in node:
            if node[part] is None:  # e.g. init_cfg=None: the option creates the dict
                return
            node, path = node[part], shown
            continue
        known, is_open = _schema(path, node)
        here = [k for k in node if not str(k).startswith('_')]
        if part in known:
            return
        if depth == 0:
            hint = _suggest(part, here + list(known))
            where = f"a key of config '{source}'"
        else:
            what = node.get('type') if isinstance(node.get('type'), str) else None
            hint = _suggest(part, here + list(known), 0.8 if is_open else 0.6)
            if is_open and not hint:
                return  # a new key where any may go (**kwargs, a dict of hooks): mmengine reports it if wrong
            where = f"a key of '{path}'" + (f' ({what} takes no such argument)' if what else '')
        hint = f"; did you mean '{'.'.join(parts[:depth] + hint)}'?" if hint else ''
        raise ConfigCheckError(f"--cfg-options key '{dotted}': '{part}' is not {where}{hint}")


def check_cfg_options(cfg, options: Optional[dict], source: str = 'the config') -> None:
    """Check every ``--cfg-options`` key against ``cfg`` before it is merged.

    A key is accepted when each of its parts exists in the config, or when the first missing part
    is an argument that the module at that place takes (``type=`` of the node, its base classes,
    the dataloader, loop or runner arguments). Where the module takes any ``**kwargs`` (or the node
    is a plain dict such as ``default_hooks``), only a near miss of a known key is an error.

    Args:
        cfg (Config | dict): The loaded config (before the options are merged).
        options (dict, optional): ``{dotted key: value}`` from mmengine's ``DictAction``.
        source (str): The config file, for the message.

    Raises:
        ConfigCheckError: One line naming the key and the nearest valid one.
    """
    tree = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg
    for key in options or {}:
        _check_option(tree, key, source)


# ---------------------------------------------------------------- config files
def read_config(path: str, flag: str = 'config file'):
    """``mmengine.Config.fromfile(path)``, or :class:`ConfigCheckError` with one line naming the file.

    The dicts inherited from ``grass_mm::`` bases are built in the config's ``default_scope``
    (:func:`grass_mm.runtime.external_configs.drop_package_scope`).

    Args:
        path (str): The config file.
        flag (str): How the user gave it, for the message (e.g. ``'--dataset-config'``).
    """
    from mmengine.config import Config

    from .external_configs import drop_package_scope

    if not osp.isfile(path):
        raise ConfigCheckError(f"{flag} '{path}' does not exist")
    try:
        cfg = Config.fromfile(path)
        drop_package_scope(cfg)
        return cfg
    except Exception as err:  # noqa: BLE001  (syntax errors, missing _base_ files, bad imports, ...)
        first = (str(err).strip().splitlines() or [''])[0]
        raise ConfigCheckError(f"cannot read {flag} '{path}': {type(err).__name__}: {first}") from None


def model_class(cfg, scope: str = 'mmpretrain'):
    """The class that ``cfg.model.type`` names in ``scope`` (then in the other scopes), or None."""
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    type_ = model.get('type') if isinstance(model, dict) else None
    if not isinstance(type_, str):
        return type_ if inspect.isclass(type_) else None
    short = type_.split('.')[-1]
    ordered = sorted(_registries(), key=lambda r: (r.name != 'model', r.scope != scope))
    for registry in ordered:
        if registry.name == 'model' and short in registry.module_dict:
            return registry.module_dict[short]
    return None


def check_pretrain_config(path: str, flag: str = '--pretrain-config') -> None:
    """Check that ``path`` is a self-supervised pretraining config whose backbone a segmentor can load.

    Its ``model`` must be an mmpretrain self-supervised algorithm (a ``BaseSelfSupervisor``, e.g.
    SimCLR, MoCo v2, GraSS) with a ``backbone``; an mmseg segmentor, a classifier or a config that
    does not read is refused.

    Raises:
        ConfigCheckError: One line naming the file and what it holds instead.
    """
    from mmpretrain.models import BaseSelfSupervisor
    from mmseg.models.segmentors import BaseSegmentor

    cfg = read_config(path, flag)
    model = cfg.get('model')
    if not isinstance(model, dict) or 'type' not in model:
        raise ConfigCheckError(f"{flag} '{path}' has no model=dict(type=...): not a pretraining config")
    cls = model_class(cfg, 'mmpretrain')
    name = model['type'] if isinstance(model['type'], str) else getattr(model['type'], '__name__', model['type'])
    if cls is None:
        raise ConfigCheckError(f"{flag} '{path}': model type '{name}' is not a registered module")
    if issubclass(cls, BaseSegmentor):
        raise ConfigCheckError(
            f"{flag} '{path}' is a segmentation config (model type '{name}', an mmseg segmentor), "
            'not a self-supervised pretraining config'
        )
    if not issubclass(cls, BaseSelfSupervisor):
        raise ConfigCheckError(
            f"{flag} '{path}': model type '{name}' is not a self-supervised algorithm "
            "(mmpretrain's BaseSelfSupervisor, e.g. SimCLR, MoCoV2, GraSS)"
        )
    if not isinstance(model.get('backbone'), dict):
        raise ConfigCheckError(f"{flag} '{path}': model '{name}' has no backbone to fine-tune")
