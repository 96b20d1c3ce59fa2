# The protocol on LoveDA Rural: as on Urban (./loveda-urban-256x256.py: random 256-px crops of the 1024-px images, 16
# per labelled image and epoch, evaluation on the whole val images), on the Rural domain
# (../../_base_/datasets/loveda_rural.py, whose changes to Urban's dataset config these lines repeat one level down).
# Leaves set the labelled share: train_dataloader.dataset.dataset.fraction (its seed: ...dataset.dataset.seed).
_base_ = ['./loveda-urban-256x256.py']
dataset_type = 'LoveDARuralDataset'
data_root = 'data/loveDA_domains/rural'
train_dataloader = dict(dataset=dict(dataset=dict(dataset=dict(type=dataset_type, data_root=data_root))))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
# default: the GraSS checkpoint of ../../grass/ (--cfg-options model.backbone.init_cfg.checkpoint=PATH)
pretrained_ckpt = 'work_dirs/grass_resnet50_8xb32-coslr-350e_tiles-loveda-rural/epoch_350.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained_ckpt)))
