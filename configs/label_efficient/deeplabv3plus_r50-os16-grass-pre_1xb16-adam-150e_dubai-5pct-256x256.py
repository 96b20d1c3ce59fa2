# Label-efficient fine-tuning (./README.md): 5 % of the Dubai aerial training images.
_base_ = ['./_base_/dubai-256x256.py']
train_dataloader = dict(dataset=dict(dataset=dict(fraction=0.05)))
