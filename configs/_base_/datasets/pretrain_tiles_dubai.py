# Unlabeled tiles of the Dubai aerial imagery (Kaggle layout, scenes ~500-2200 px), cut into
# 512x512 tiles with stride 384 straight from the raw folder (masks are ignored: only
# ``tile_*/images`` is scanned). Scenes smaller than a tile give one tile (the whole scene).
_base_ = ['./pretrain_tiles_potsdam.py']
data_root = '../shared/data/dubai_aerial'
train_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, data_prefix='', include='*/images/*', tile_size=512, stride=384)
)
