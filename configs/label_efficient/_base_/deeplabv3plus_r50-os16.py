# DeepLab v3+ (mmseg's DepthwiseSeparableASPPHead) on a PLAIN ResNet-50 at output stride 16, the segmentation
# network of the GraSS authors' lab (GLCNet / TOV / RiSSNet fine-tuning protocol).
# From mmseg's own base, changed where the lab's network differs:
# * backbone type='ResNet' (no deep stem; mmseg's default ResNetV1c has one) so that an mmpretrain /
#   grass_mm ResNet-50 pretraining checkpoint's backbone.* keys load with zero missing keys;
# * output stride 16: strides (1, 2, 2, 1), layer4 dilated by 2; ASPP rates 1, 6, 12, 18 (DeepLab's OS-16 rates);
# * no auxiliary FCN head (the lab's network has none).
# SyncBN (mmseg's default) normalises over the whole batch of 16 when it is split over several GPUs;
# one process (tools/train.py) and CPU DDP turn it into plain BN automatically.
_base_ = ['mmseg::_base_/models/deeplabv3plus_r50-d8.py']
model = dict(
    data_preprocessor=dict(size=(256, 256)),
    pretrained=None,
    backbone=dict(type='ResNet', deep_stem=False, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), init_cfg=None),
    decode_head=dict(dilations=(1, 6, 12, 18)),
    auxiliary_head=None,
)
# mmseg's top-level norm_cfg without the _scope_ key that mmengine adds to the dicts of an mmseg:: base (a norm
# layer built from {{_base_.norm_cfg}} in a child config would not accept it)
norm_cfg = dict(_delete_=True, type='SyncBN', requires_grad=True)
