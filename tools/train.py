#!/usr/bin/env python
"""Train a grass_mm / mmseg / mmpretrain config (OpenMMLab entry point).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG NPROC [args]      # torch.distributed (NCCL on GPU, gloo on CPU)

Before the runner is built, the config is checked (``--cfg-options`` keys against the config,
unknown module types, missing data folders, missing checkpoints) and a wrong one stops with one
line naming the key (and the nearest valid key for a misspelt one).
"""

import argparse

from grass_mm.utils.cli import add_common_args, fail, load_config, run  # first: filters the third-party warnings


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor or a self-supervised model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the latest one in the work dir',
    )
    parser.add_argument('--amp', action='store_true', default=False, help='mixed precision training (CUDA)')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args)

    from grass_mm.runtime import ensure_plain_checkpoint_hook

    if args.amp:
        import torch

        if not torch.cuda.is_available():
            fail('--amp needs a CUDA GPU (mmengine AmpOptimWrapper); torch sees none here')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP training is already enabled in your config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    ensure_plain_checkpoint_hook(cfg)
    run(cfg, args.launcher, mode='train')


if __name__ == '__main__':
    main()
