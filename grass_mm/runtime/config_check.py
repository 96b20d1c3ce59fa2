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
"""

import difflib
import os.path as osp
import pydoc
from typing import Iterator, Tuple

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


def _registered_names() -> set:
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

    names = set()
    for mod in (mme_reg, mmseg_reg, mmpre_reg):
        for obj in vars(mod).values():
            if isinstance(obj, Registry):
                names.update(obj.module_dict)
    return names


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
