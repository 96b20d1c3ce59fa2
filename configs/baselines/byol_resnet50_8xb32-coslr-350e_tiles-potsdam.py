# byol baseline of GraSS on unlabeled Potsdam tiles: same views, data and 350-epoch schedule as
# ../grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py; only the method differs.
# Other datasets: swap the first base for ../_base_/datasets/pretrain_tiles_{loveda_urban,...}.py.
_base_ = [
    '../_base_/datasets/pretrain_tiles_potsdam.py',
    '../_base_/schedules/selfsup_lars_coslr_350e.py',
    '../_base_/default_runtime_selfsup.py',
    './_base_/byol_r50.py',
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline={{_base_.paper_train_pipeline}}))
