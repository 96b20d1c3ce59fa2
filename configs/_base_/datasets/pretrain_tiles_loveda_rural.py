# Unlabeled LoveDA Rural tiles (1024x1024 scenes cut into 512x512 tiles) for pretraining.
# Uses the train and test images of data/loveDA_domains/rural (the test split has no masks);
# the val split is kept out for fine-tuning evaluation.
_base_ = ['./pretrain_tiles_potsdam.py']
data_root = 'data/loveDA_domains/rural'
train_dataloader = dict(
    dataset=dict(data_root=data_root, data_prefix=['img_dir/train', 'img_dir/test'], tile_size=512, stride=512)
)
