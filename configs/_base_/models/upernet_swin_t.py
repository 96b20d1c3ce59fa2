# mmseg's UPerNet with a Swin-T backbone (SwinTransformer; transformer tokens returned as NCHW maps at
# strides 4/8/16/32). BN in the heads (mmseg: SyncBN) so that the config also runs on CPU (see
# upernet_r50.py); 6 classes (override per dataset).
_base_ = ['mmseg::_base_/models/upernet_swin.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(init_cfg=None),
    decode_head=dict(num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=6, norm_cfg=norm_cfg),
)
# The top-level norm_cfg replaces mmseg's whole (_delete_): mmengine marks the dicts of an mmseg:: base with
# a _scope_ key, which a norm layer built from {{_base_.norm_cfg}} in a child config would not accept.
norm_cfg = dict(norm_cfg, _delete_=True)
backbone_norm_cfg = dict(_delete_=True, type='LN', requires_grad=True)  # mmseg's (the backbone's LN), likewise
