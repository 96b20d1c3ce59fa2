# Frozen-backbone (linear-probe style) variant: all four ResNet stages and the stem frozen,
# BN statistics frozen (norm_eval); only the FCN head learns.
_base_ = ['./fcn_r50-grass-pre_8xb4-40k_loveda-urban-512x512.py']
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
