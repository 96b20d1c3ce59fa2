# Label-efficient fine-tuning (./README.md): 5 % of the Potsdam 256-px training tiles.
_base_ = ['./_base_/potsdam-256x256.py']
train_dataloader = dict(dataset=dict(dataset=dict(fraction=0.05)))
