# Frozen-backbone (linear-probe style) variant: all four ResNet stages and the stem frozen,
# BN statistics frozen (norm_eval); only the UPERNET head learns.
_base_ = ['./upernet_r50-grass-pre_8xb4-40k_potsdam-512x512.py']
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
