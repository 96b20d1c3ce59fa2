# FCN-R50 fine-tuned on loveda_rural from a GraSS pretraining checkpoint. The backbone is the plain
# mmpretrain-compatible ResNet-50 of ../_base_/models/fcn_r50.py, so the checkpoint's
# backbone.* keys load with zero missing/unexpected keys. For a baseline, point
# pretrained_ckpt at its checkpoint (e.g. work_dirs/simclr_resnet50_8xb32-coslr-350e_tiles-loveda_rural/epoch_350.pth):
#   python tools/train.py THIS_CONFIG --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = [
    '../_base_/models/fcn_r50.py',
    '../_base_/datasets/loveda_rural.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/schedules/seg_40k.py',
]
pretrained_ckpt = 'work_dirs/grass_resnet50_8xb32-coslr-350e_tiles-loveda_rural/epoch_350.pth'
num_classes = {{_base_.num_classes}}
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(
        init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained_ckpt,
                      prefix='backbone.')),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
