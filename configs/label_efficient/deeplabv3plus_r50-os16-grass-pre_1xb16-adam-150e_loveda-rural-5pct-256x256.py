# Label-efficient fine-tuning (./README.md): 5 % of the LoveDA Rural training images.
_base_ = ['./_base_/loveda-rural-256x256.py']
train_dataloader = dict(dataset=dict(dataset=dict(fraction=0.05)))
