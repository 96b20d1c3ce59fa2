"""A few pretraining iterations on tiny co-registered pairs lower the loss, per method.

Pairs: VTS-like pairs made in memory (``img`` / ``pair_img``) and an xBD-layout fixture on
disk (``{disaster}_{id}_pre_disaster.png`` / ``..._post_disaster.png``), loaded with
LoadImagePair -> PairedViews -> PackInputs, collated and fed to the registered algorithms.
"""

import copy

import mmcv
import numpy as np
import pytest
import torch
from conftest import make_voronoi_pair
from mmcv.transforms import Compose
from mmengine.dataset import default_collate
from mmengine.optim import build_optim_wrapper

SIZE = 48
R18 = dict(type='ResNet', depth=18, base_channels=16, out_indices=(3,), norm_cfg=dict(type='BN'))
FEAT = 128  # channels of the last ResNet-18 stage with base_channels=16
PREPROC = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)

METHODS = {
    'mocov2': dict(
        type='MoCo',
        queue_len=1024,
        feat_dim=32,
        momentum=0.01,
        backbone=R18,
        neck=dict(type='MoCoV2Neck', in_channels=FEAT, hid_channels=64, out_channels=32, with_avg_pool=True),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    ),
    'densecl': dict(
        type='DenseCL',
        queue_len=1024,
        feat_dim=32,
        momentum=0.01,
        loss_lambda=0.5,
        backbone=R18,
        neck=dict(type='DenseCLNeck', in_channels=FEAT, hid_channels=64, out_channels=32, num_grid=None),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    ),
    # GraSS (issue 4): warm-up steps, then one gradient-guided-sampling step, on paired views
    'grass': dict(
        type='GraSS',
        backbone=R18,
        neck=dict(
            type='NonLinearNeck', in_channels=FEAT, hid_channels=64, out_channels=32, num_layers=2, with_avg_pool=True
        ),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
    ),
    'pixel_pair': dict(
        type='PixelPairContrast',
        backbone=R18,
        temperature=0.2,
        global_weight=0.5,
        neck=dict(type='DenseCLNeck', in_channels=FEAT, hid_channels=64, out_channels=32),
    ),
}


def _pipeline_cfg(shared):
    return [
        dict(type='LoadImagePair'),
        dict(
            type='PairedViews',
            pair_prob=1.0,
            shared_geometry=shared,
            geometric=[
                dict(type='RandomResizedCrop', scale=SIZE, crop_ratio_range=(0.5, 1.0)),
                dict(type='RandomFlip', prob=0.5),
            ],
            photometric=[
                dict(
                    type='RandomApply',
                    prob=0.8,
                    transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0)],
                ),
                dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
            ],
        ),
        dict(type='PackInputs'),
    ]


def _batch(source, tmp_path, shared, n=4):
    """Collated batch of ``n`` pairs through the paired datasets of issue 3 (when present)."""
    from mmpretrain.registry import DATASETS, TRANSFORMS

    pipeline = _pipeline_cfg(shared)
    if source == 'vts' and DATASETS.get('VTSPairDataset') is not None:
        ds = DATASETS.build(dict(type='VTSPairDataset', num_samples=n, seed=0, r_img=0.5, size=64, pipeline=pipeline))
        return default_collate([ds[i] for i in range(n)])
    items = []
    for i in range(n):
        p = make_voronoi_pair(seed=100 + i, size=64, r_img=0.5)
        if source == 'vts':
            items.append(dict(img=p['img'], pair_img=p['pair_img'], sample_idx=i))
        else:  # xBD official layout: images/{disaster}_{id}_{pre|post}_disaster.png
            root = tmp_path / 'train' / 'images'
            root.mkdir(parents=True, exist_ok=True)
            pre = str(root / f'hurricane-x_{i:08d}_pre_disaster.png')
            post = str(root / f'hurricane-x_{i:08d}_post_disaster.png')
            mmcv.imwrite(p['img'], pre)
            mmcv.imwrite(p['pair_img'], post)
            items.append(dict(img_path=pre, pair_path=post, sample_idx=i))
    if source == 'xbd' and DATASETS.get('XBDPairDataset') is not None:
        ds = DATASETS.build(dict(type='XBDPairDataset', data_root=str(tmp_path), splits='train', pipeline=pipeline))
        assert len(ds) == n
        return default_collate([ds[i] for i in range(n)])
    pipe = Compose([TRANSFORMS.build(c) for c in pipeline])
    return default_collate([pipe(it) for it in items])


def _total(losses):
    return sum(v for k, v in losses.items() if 'loss' in k)


def _eval_loss(model, batch, queues):
    """Loss of ``batch`` on a copy of ``model`` whose negative queues are reset to ``queues``.

    The training model's queue / momentum encoder stay untouched; fixing the negatives makes
    the before / after losses comparable (the training steps enqueue keys of this very batch,
    which would otherwise act as false negatives).
    """
    m = copy.deepcopy(model)
    if hasattr(m, 'set_gs'):  # GraSS: measure the plain NT-Xent of the paired views
        m.set_gs(False)
    for name, buf in m.named_buffers():
        if name in queues:
            buf.copy_(queues[name])
    torch.manual_seed(0)
    data = m.data_preprocessor(batch, True)
    return float(_total(m(**data, mode='loss')).detach())  # GraSS needs autograd inside


def _registered(name):
    from mmpretrain.registry import MODELS

    return MODELS.get(name) is not None


@pytest.mark.parametrize('source', ['vts', 'xbd'])
@pytest.mark.parametrize('method', sorted(METHODS))
def test_few_iterations_lower_loss(method, source, tmp_path, init_pretrain_scope):
    from mmpretrain.registry import MODELS

    if not _registered(METHODS[method]['type']):
        pytest.skip(f'{METHODS[method]["type"]} is not registered (issue 4 not merged)')
    torch.manual_seed(0)
    np.random.seed(0)
    cfg = copy.deepcopy(METHODS[method])
    cfg['data_preprocessor'] = PREPROC
    model = MODELS.build(cfg)
    model.train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4)))
    batch = _batch(source, tmp_path, shared=method != 'mocov2')
    assert len(batch['inputs']) == 2 and batch['inputs'][0].shape == (4, 3, SIZE, SIZE)
    queues = {k: v.clone() for k, v in model.named_buffers() if 'queue' in k}
    before = _eval_loss(model, batch, queues)
    for _ in range(6):  # GraSS: warm-up (SimCLR) stage
        log = model.train_step(batch, optim)
        assert all(torch.isfinite(v) for v in log.values())
    after = _eval_loss(model, batch, queues)
    print(f'{method} {source}: loss {before:.4f} -> {after:.4f}')
    assert after < before
    if hasattr(model, 'set_gs'):
        # GraSS stage 2 consumes the paired views too: a GS step runs and moves the weights
        # (its loss is on DAR crops, so it is not compared with the warm-up loss here)
        model.set_gs(True)
        w0 = model.backbone.conv1.weight.detach().clone()
        log = model.train_step(batch, optim)
        assert all(torch.isfinite(v) for v in log.values())
        assert not torch.equal(w0, model.backbone.conv1.weight)
