# upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py initialised from the GraSS Swin-T pretraining
# (../grass/grass_swin-t_8xb32-coslr-350e_tiles-potsdam.py): the chain GraSS Swin-T -> UPerNet-Swin-T with the
# patch-contrast head. mmseg's Swin loads the checkpoint's backbone.* keys, every key of its backbone (the pretraining
# backbone has the same four output norms, norm0-3); it passes over the GraSS neck's keys (neck.*).
_base_ = ['./upernet_swin-t_patch-contrast_4xb4-80k_potsdam-512x512.py']
pretrained_ckpt = 'work_dirs/grass_swin-t_8xb32-coslr-350e_tiles-potsdam/epoch_350.pth'
model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=pretrained_ckpt)))
