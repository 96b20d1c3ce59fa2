# SimCLR baseline of GraSS on unlabeled LoveDA Rural tiles: same views, data and schedule as
# ../grass/grass_resnet50_8xb32-coslr-350e_tiles-loveda-rural.py, only the method differs (see ./README.md).
_base_ = [
    '../_base_/datasets/pretrain_tiles_loveda_rural.py',
    './_base_/pretrain_8xb32-coslr-350e.py',
    './_base_/simclr_r50.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
