"""The paper's evaluation protocol: frozen pretrained encoder + FCN head trained on top.

mmseg ResNet with ``frozen_stages=4`` and ``norm_eval=True``: after head training through
mmengine's Runner, every backbone parameter AND buffer (BN running statistics) is
bit-identical, while the head changed. Negative control: full fine-tuning changes the encoder.
"""

import copy

import mmcv
import pytest
import torch
from conftest import make_voronoi_pair


def _write_seg_data(root, n=4):
    (root / 'img_dir').mkdir(parents=True)
    (root / 'ann_dir').mkdir(parents=True)
    for i in range(n):
        p = make_voronoi_pair(seed=200 + i, size=48, r_img=0.0)
        mmcv.imwrite(p['img'], str(root / 'img_dir' / f'{i}.png'))
        mmcv.imwrite(p['label'].astype('uint8'), str(root / 'ann_dir' / f'{i}.png'))


def _cfg(root, work_dir, frozen):
    from mmengine.config import Config

    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    backbone = dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(3,),
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch',
        init_cfg=None,
    )
    if frozen:
        backbone.update(frozen_stages=4, norm_eval=True)
    return Config(
        dict(
            default_scope='mmseg',
            work_dir=str(work_dir),
            model=dict(
                type='EncoderDecoder',
                data_preprocessor=dict(
                    type='SegDataPreProcessor',
                    mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375],
                    bgr_to_rgb=True,
                    pad_val=0,
                    seg_pad_val=255,
                    size=(48, 48),
                ),
                backbone=backbone,
                decode_head=dict(
                    type='FCNHead',
                    in_channels=128,
                    in_index=0,
                    channels=16,
                    num_convs=1,
                    concat_input=False,
                    dropout_ratio=0.0,
                    num_classes=2,
                    norm_cfg=dict(type='BN', requires_grad=True),
                    align_corners=False,
                    loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
                ),
                train_cfg=dict(),
                test_cfg=dict(mode='whole'),
            ),
            train_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='InfiniteSampler', shuffle=True),
                dataset=dict(
                    type='BaseSegDataset',
                    data_root=str(root),
                    metainfo=dict(classes=('stripes', 'checker'), palette=[[255, 0, 0], [0, 255, 0]]),
                    data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
                    img_suffix='.png',
                    seg_map_suffix='.png',
                    pipeline=pipeline,
                ),
            ),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=3, val_interval=100),
            optim_wrapper=dict(
                type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)
            ),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1000)
            ),
            log_level='WARNING',
        )
    )


@pytest.mark.parametrize('frozen', [True, False])
def test_frozen_encoder_is_bit_identical(frozen, tmp_path):
    from mmengine.runner import Runner

    import grass_mm  # noqa: F401

    _write_seg_data(tmp_path / 'data')
    from mmengine.hooks import Hook

    class Snapshot(Hook):
        """Copy the weights once initialised (Runner.train() runs init_weights first)."""

        def before_train(self, runner):
            self.enc = copy.deepcopy(runner.model.backbone.state_dict())  # params + BN stats
            self.head = copy.deepcopy(runner.model.decode_head.state_dict())

    runner = Runner.from_cfg(_cfg(tmp_path / 'data', tmp_path / 'work', frozen))
    snap = Snapshot()
    runner.register_hook(snap)
    model = runner.model
    runner.train()
    enc0, head0 = snap.enc, snap.head
    enc1 = model.backbone.state_dict()
    head1 = model.decode_head.state_dict()
    same = [k for k in enc0 if torch.equal(enc0[k], enc1[k])]
    assert any(not torch.equal(head0[k], head1[k]) for k in head0 if 'conv_seg' in k)
    if frozen:
        assert len(same) == len(enc0), f'changed: {sorted(set(enc0) - set(same))[:5]}'
        assert all(not p.requires_grad for p in model.backbone.parameters())
    else:  # negative control: the same run without freezing moves the encoder
        assert len(same) < len(enc0) // 2
