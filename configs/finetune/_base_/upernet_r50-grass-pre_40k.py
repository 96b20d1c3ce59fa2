# UPerNet-R50 fine-tuned from a self-supervised pretraining checkpoint, 40k iterations, for 8 GPUs
# (tools/dist_train.sh / tools/slurm_train.sh). Leaf configs add the dataset base and the checkpoint.
# The backbone is the plain mmpretrain-compatible ResNet-50 of ../../_base_/models/upernet_r50.py, so a
# GraSS / SimCLR / MoCo v2 checkpoint's backbone.* keys load with zero missing/unexpected keys.
# SyncBN: on several GPUs every BN layer normalises with the statistics of the whole batch (mmseg's
# default); a single process (tools/train.py) and CPU DDP turn it into plain BN automatically.
_base_ = [
    '../../_base_/models/upernet_r50.py',
    '../../_base_/default_runtime_seg.py',
    '../../_base_/schedules/seg_40k.py',
]
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        norm_cfg=norm_cfg, init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=None, prefix='backbone.')
    ),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg),
)
