"""The multi-GPU configs default to SyncBN and still run as 2 CPU processes (gloo), where the CPU DDP
wrapper turns SyncBN into per-process BN."""

import glob
import math
import os.path as osp
import re

import torch
from mmengine.config import Config

from ._tools import REPO_ROOT

FINETUNE = osp.join(REPO_ROOT, 'configs/finetune/fcn_r50-grass-pre_8xb4-40k_potsdam-512x512.py')
CHILD = """
_base_ = [{base!r}]
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(depth=18, init_cfg=None),
    decode_head=dict(in_channels=512, channels=16),
    auxiliary_head=dict(in_channels=256, channels=16))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root!r}, data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
                 pipeline=[dict(type='CheckedLoadImageFromFile'),
                           dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
                           dict(type='RandomCrop', crop_size=(64, 64)), dict(type='PackSegInputs')]))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
train_cfg = dict(max_iters=2, val_interval=100)
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
"""


def test_finetune_config_syncbn_runs_on_two_cpu_processes(cpu_dist_train, rs_tiles, tmp_path):
    cfg_path = tmp_path / 'fcn_syncbn_tiny.py'
    cfg_path.write_text(CHILD.format(base=FINETUNE, root=osp.join(rs_tiles, 'potsdam')))
    cfg = Config.fromfile(str(cfg_path))
    assert {cfg.model.backbone.norm_cfg.type, cfg.model.decode_head.norm_cfg.type} == {'SyncBN'}
    out = cpu_dist_train(str(cfg_path), tmp_path / 'work', port_base=31500)
    assert 'SyncBN needs a GPU; using per-process BN on CPU' in out, out[-3000:]
    losses = [float(x) for x in re.findall(r'Iter\(train\) \[\d/2\].*? loss: ([\d.]+)', out)]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), out[-3000:]
    ckpt = torch.load(glob.glob(str(tmp_path / 'work' / 'iter_2.pth'))[0], weights_only=True)
    bn = [k for k in ckpt['state_dict'] if k.endswith('running_mean')]
    assert bn and all(torch.isfinite(ckpt['state_dict'][k]).all() for k in bn)
