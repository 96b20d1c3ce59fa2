# Full fine-tuning option of ./fcn_r50_frozen-4k_vts.py: the pretrained encoder is trained too.
_base_ = ['./fcn_r50_frozen-4k_vts.py']
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
