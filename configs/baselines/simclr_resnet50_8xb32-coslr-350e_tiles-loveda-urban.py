# SimCLR baseline of GraSS on unlabeled LoveDA Urban tiles: same views, data and schedule as
# ../grass/grass_resnet50_8xb32-coslr-350e_tiles-loveda-urban.py, only the method differs (see ./README.md).
_base_ = [
    '../_base_/datasets/pretrain_tiles_loveda_urban.py',
    './_base_/pretrain_8xb32-coslr-350e.py',
    './_base_/simclr_r50.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
