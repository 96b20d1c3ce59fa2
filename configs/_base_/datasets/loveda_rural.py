# LoveDA Rural (0.3 m) only. Layout written by
# ``python tools/dataset_converters/loveda_domains.py /path/to/LoveDA -o data/loveDA_domains``:
# data/loveDA_domains/rural/{img_dir,ann_dir}/{train,val} (+ img_dir/test).
# Masks as in Urban (./loveda_urban.py, whose pipelines, loaders and test-time augmentation this reuses):
# 0 = no-data, 1..7 = background, building, road, water, barren, forest, agricultural;
# ``reduce_zero_label=True`` (the dataset default) gives 0..6 and 255.
_base_ = ['./loveda_urban.py']
dataset_type = 'LoveDARuralDataset'
data_root = 'data/loveDA_domains/rural'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
