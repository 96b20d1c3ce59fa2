# 20k-iteration segmentation schedule: mmseg's own (SGD 0.01, poly decay, validation every 2k), with
# grass_mm's AtomicCheckpointHook: mmengine's CheckpointHook, but a run killed while it writes a checkpoint
# leaves the previous ones complete (atomic write, old files removed afterwards); --resume continues.
_base_ = ['mmseg::_base_/schedules/schedule_20k.py']
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', max_keep_ckpts=3))
