"""A user's config outside the repository that inherits grass_mm's quickstart FCN config (``grass_mm::``)."""

import glob
import os.path as osp

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def quickstart_fcn_config() -> str:
    """``quickstart/<name>``: grass_mm's quickstart FCN-R18 config on VTS files, whatever its current name."""
    found = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'quickstart', 'fcn_r18*vts*.py')))
    assert found, 'configs/quickstart has no fcn_r18*vts*.py config'
    return 'quickstart/' + osp.basename(found[0])


def write_user_config(folder: str, data_root: str, name: str = 'my_fcn_vts.py') -> str:
    """Write ``folder/name``: ``_base_ = ['grass_mm::quickstart/...']`` with a 2-iteration, 64 px schedule."""
    text = f"""_base_ = ['grass_mm::{quickstart_fcn_config()}']
data_root = {data_root!r}
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""
    path = osp.join(folder, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_vts(folder: str) -> str:
    """Six 64 px VTS samples (4 train, 2 val) in ``folder/vts``; returns that root."""
    from grass_mm.datasets.converters import write_vts as write

    root = osp.join(folder, 'vts')
    write(root, num_train=4, num_val=2, size=64, progress=False)
    return root
