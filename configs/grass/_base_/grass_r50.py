# GraSS ResNet-50: SimCLR (projection 2048 -> 2048 -> 128, NT-Xent, temperature 0.5) plus
# gradient-guided sampling on the last stage (A = 2048x7x7 for 224 views), TA = 0.5,
# the official LAM normalisation (LAM / max, unclamped; a map whose max is 0 leaves the view uncropped),
# nearest resize of the DAR crop (as the original).
_base_ = ['../../baselines/_base_/simclr_r50.py']
model = dict(type='GraSS', gs_stage=-1, threshold=0.5, lam_norm='original', crop_mode='nearest')
