# Schedule + runtime shared by every 350-epoch pretraining config (GraSS, the baselines, noisy pairs):
# LARS, 10 warm-up epochs then cosine, lr 0.3 for 8 GPUs x 32 images; mmpretrain runtime + grass_mm hooks.
_base_ = ['../../_base_/schedules/selfsup_lars_coslr_350e.py', '../../_base_/default_runtime_selfsup.py']
