# The lab's label-efficient fine-tuning protocol, dataset-free: DeepLab v3+ R50 (OS 16) initialised from a
# pretraining checkpoint, the whole network fine-tuned, Adam 1e-4 x0.98/epoch, 150 epochs, batch 16
# (1 GPU x 16; for N GPUs set train_dataloader.batch_size=16/N). The dataset bases beside this file add
# 256-px crops, the labelled subset (LabelSubsetDataset) and mIoU / OA / Kappa (IoUKappaMetric).
# Checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=PATH (random init: model.backbone.init_cfg=None).
_base_ = ['./deeplabv3plus_r50-os16.py', '../../_base_/default_runtime_seg.py', './adam-1e-4_exp-0.98_150e.py']
model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=None, prefix='backbone.')))
log_processor = dict(by_epoch=True)
