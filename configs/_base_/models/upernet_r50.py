# mmseg's UPerNet-R50 with a PLAIN ResNet-50 (type='ResNet', no deep stem) so that mmpretrain ResNet-50
# pretraining checkpoints (GraSS, SimCLR, MoCo v2, ...) load with zero missing keys:
# mmseg's default ResNetV1c has a deep stem whose keys a plain ResNet checkpoint lacks.
# BN (not SyncBN) so that configs also run on CPU; the multi-GPU configs (configs/finetune/) set SyncBN.
# No ImageNet weights (pretrained=None); 6 classes (override per dataset).
_base_ = ['mmseg::_base_/models/upernet_r50.py']
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(size=(512, 512))  # = crop_size of the dataset; method configs override it
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(type='ResNet', deep_stem=False, norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=6, norm_cfg=norm_cfg),
)
# The top-level norm_cfg replaces mmseg's whole (_delete_): mmengine marks the dicts of an mmseg:: base with
# a _scope_ key, which a norm layer built from {{_base_.norm_cfg}} in a child config would not accept.
norm_cfg = dict(norm_cfg, _delete_=True)
