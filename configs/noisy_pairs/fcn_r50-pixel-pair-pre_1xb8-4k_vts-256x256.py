# Full fine-tuning option of ./fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py: the pretrained encoder is
# trained too.
_base_ = ['./fcn_r50-pixel-pair-pre_1xb8-frozen-4k_vts-256x256.py']
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
