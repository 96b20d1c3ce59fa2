# GraSS-R50 on unlabeled LoveDA Rural tiles: 8 GPUs x 32 images, 224 px views, 350 epochs (see ./README.md).
_base_ = ['../_base_/datasets/pretrain_tiles_loveda_rural.py', './_base_/grass_r50_8xb32-coslr-350e.py']
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
