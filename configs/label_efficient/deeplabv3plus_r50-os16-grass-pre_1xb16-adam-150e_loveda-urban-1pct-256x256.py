# Label-efficient fine-tuning (./README.md): 1 % of the LoveDA Urban training images.
_base_ = ['./_base_/loveda-urban-256x256.py']
train_dataloader = dict(dataset=dict(dataset=dict(fraction=0.01)))
