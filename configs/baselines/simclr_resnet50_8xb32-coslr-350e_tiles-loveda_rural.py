# SimCLR baseline of GraSS on unlabeled loveda_rural tiles: batch 8 x 32 = 256 images, 350 epochs.
_base_ = [
    '../_base_/datasets/pretrain_tiles_loveda_rural.py',
    '../_base_/schedules/selfsup_lars_coslr_350e.py',
    '../_base_/default_runtime_selfsup.py',
    './_base_/simclr_r50.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
