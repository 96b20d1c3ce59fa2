# GraSS-R50 on unlabeled Potsdam tiles with the official code's schedule shape (lr ramp 0.6 -> 4.8, cosine restarts
# every third of training); otherwise grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py (see ./README.md).
_base_ = ['../_base_/datasets/pretrain_tiles_potsdam.py', './_base_/grass_r50_8xb32-larc-restart-350e.py']
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
