# upernet_swin-t_patch-contrast_potsdam-512x512-80k.py initialised from the GraSS Swin-T pretraining
# (../grass/grass_swin-t_8xb32-coslr-350e_tiles-potsdam.py): the chain GraSS Swin-T -> UPerNet-Swin-T with the
# patch-contrast head. mmseg's Swin loads the checkpoint's backbone.* keys; only the output norms of levels 0-2
# (which the single-output pretraining backbone lacks) start fresh.
_base_ = ['./upernet_swin-t_patch-contrast_potsdam-512x512-80k.py']
pretrained_ckpt = 'work_dirs/grass_swin-t_8xb32-coslr-350e_tiles-potsdam/epoch_350.pth'
model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained_ckpt)))
