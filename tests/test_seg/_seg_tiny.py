"""Tiny model configs shared by the seg tests (ResNet-18 with 16 base channels)."""

import copy

import torch
from mmengine.hooks import Hook
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

NUM_CLASSES = 4
STAGE_CHANNELS = [16, 32, 64, 128]


def tiny_model(decode='fcn', patch=None, anchor=None, num_classes=NUM_CLASSES):
    norm_cfg = dict(type='BN', requires_grad=True)
    backbone = dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        init_cfg=None,
    )
    if decode == 'fcn':
        head = dict(
            type='FCNHead',
            in_channels=128,
            in_index=3,
            channels=32,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        )
        dec_ch = 32
    else:
        head = dict(
            type='UPerHead',
            in_channels=STAGE_CHANNELS,
            in_index=[0, 1, 2, 3],
            pool_scales=(1, 2),
            channels=32,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        )
        dec_ch = 32
    cfg = dict(
        type='ContrastEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
        ),
        backbone=backbone,
        decode_head=head,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'),
    )
    if patch is not None:
        p = dict(type='PatchContrastHead', in_index=[2, 3], in_channels=[64, 128], channels=16)
        p.update(patch)
        cfg['patch_contrast_head'] = p
    if anchor is not None:
        a = dict(type='PixelAnchorHead', in_index=[1, 2], in_channels=[32, 64], decoder_channels=dec_ch, channels=16)
        a.update(anchor)
        cfg['pixel_anchor_head'] = a
    return copy.deepcopy(cfg)


def build(cfg):
    """Build a model in the mmseg scope without touching the process-wide default scope."""
    from mmengine.config import ConfigDict
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(ConfigDict(cfg))


def tiny_batch(b=2, size=64, seed=0):
    """(B, 3, size, size) images in [0, 255] and SegDataSamples with classes 0..3 in quadrants and a 255 corner."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, 3, size, size, generator=g) * 255
    samples = []
    for i in range(b):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        gt[:, :, size // 2 :] = 1
        gt[:, size // 2 :, :] = 2 + i % 2
        gt[:, :4, :4] = 255
        d = SegDataSample()
        d.gt_sem_seg = PixelData(data=gt)
        d.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        samples.append(d)
    return x, samples


# ----------------------------------------------------------------------------- runs through mmengine's Runner
class Snapshots(Hook):
    """Copies of the model's state after its weights are initialised (0) and after every training iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.states = {}

    def before_train(self, runner):
        self.states[0] = copy.deepcopy(runner.model.state_dict())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.states[runner.iter + 1] = copy.deepcopy(runner.model.state_dict())


def tiny_runner(tmp_path, max_iters, hooks, backbone_norm_eval=False, batch_size=2):
    """An mmengine Runner training the tiny FCN (2 classes) on 8 in-memory 64 px VTS images."""
    from mmengine.runner import Runner

    model = tiny_model('fcn', num_classes=2)
    model['type'] = 'EncoderDecoder'
    model['data_preprocessor']['size'] = (64, 64)
    model['backbone']['norm_eval'] = backbone_norm_eval
    pipeline = [dict(type='LoadImageFromNDArray'), dict(type='PackSegInputs')]
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(type='VTSSegDataset', num_samples=8, size=64, seed=0, pipeline=pipeline),
        ),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
        custom_hooks=hooks,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10**6), logger=None),
        default_scope='mmseg',
        randomness=dict(seed=0),
        experiment_name=tmp_path.name,
    )


def changed_keys(a, b, prefix):
    """Floating-point entries under ``prefix`` that differ between two state dicts."""
    return {k for k in a if k.startswith(prefix) and a[k].is_floating_point() and not torch.equal(a[k], b[k])}
