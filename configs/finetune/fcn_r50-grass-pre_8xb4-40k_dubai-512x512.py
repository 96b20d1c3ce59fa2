# FCN-R50 fine-tuned on Dubai aerial from a GraSS checkpoint (see ./README.md). For a baseline, add --cfg-options
#   model.backbone.init_cfg.checkpoint=work_dirs/simclr_resnet50_8xb32-coslr-350e_tiles-dubai/epoch_350.pth
_base_ = ['../_base_/datasets/dubai.py', './_base_/fcn_r50-grass-pre_40k.py']
pretrained_ckpt = 'work_dirs/grass_resnet50_8xb32-coslr-350e_tiles-dubai/epoch_350.pth'
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    backbone=dict(init_cfg=dict(checkpoint=pretrained_ckpt)),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
)
