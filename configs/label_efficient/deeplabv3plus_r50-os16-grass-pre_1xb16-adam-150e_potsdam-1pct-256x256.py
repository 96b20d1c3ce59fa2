# Label-efficient fine-tuning (./README.md): 1 % of the Potsdam 256-px training tiles (138 of 13,824, as the lab).
_base_ = ['./_base_/potsdam-256x256.py']
train_dataloader = dict(dataset=dict(dataset=dict(fraction=0.01)))
