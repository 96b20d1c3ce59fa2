#!/usr/bin/env python
"""Export a ContrastEncoderDecoder checkpoint as a plain mmseg EncoderDecoder checkpoint (deployment).

    python tools/model_converters/export_plain_seg.py CONFIG CHECKPOINT OUT.pth [--out-config PLAIN.py]

Writes ``OUT.pth`` (``state_dict`` + ``meta``, plain data, loads with ``torch.load(weights_only=True)``)
without the training-only ``patch_contrast_head.*`` / ``pixel_anchor_head.*`` weights, and the matching
stock config (``type='EncoderDecoder'``, components removed; default ``OUT.py``). Before writing, it builds
the plain model on the CPU and loads the exported weights with ``strict=True`` (``--no-verify`` skips it).
Then ``tools/test.py PLAIN.py OUT.pth`` or mmseg's ``init_model`` / ``inference_model`` use it like any
mmseg checkpoint.
"""

import argparse
import os.path as osp

from grass_mm.utils.cli import fail  # first: filters the third-party warnings


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='training config (ContrastEncoderDecoder)')
    p.add_argument('checkpoint', help='training checkpoint')
    p.add_argument('out', help='plain checkpoint to write (.pth)')
    p.add_argument('--out-config', help='plain config to write (default: OUT with .py)')
    p.add_argument('--no-verify', action='store_true', help='skip the strict load into the plain model')
    p.add_argument('--overwrite', action='store_true', help='replace existing output files')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_cfg = args.out_config or osp.splitext(args.out)[0] + '.py'
    if osp.abspath(out_cfg) == osp.abspath(args.out):
        fail(f"OUT '{args.out}' and --out-config would be the same file; give OUT a .pth name")
    for path in (args.out, out_cfg):
        if osp.isdir(path):
            fail(f"'{path}' is a folder; give a file name")
        if osp.exists(path) and not args.overwrite:
            fail(f"'{path}' exists (use --overwrite to replace it)")
    if not osp.isfile(args.config):
        fail(f"config file '{args.config}' does not exist")
    if not osp.isfile(args.checkpoint):
        fail(f"checkpoint file '{args.checkpoint}' does not exist")
    import torch

    import grass_mm  # noqa: F401
    from grass_mm.runtime import CheckpointError, ConfigCheckError, read_config, safe_torch_load
    from grass_mm.runtime.outputs import atomic_output
    from grass_mm.seg.export import plain_seg_checkpoint, plain_seg_model_cfg

    try:
        cfg = read_config(args.config)
    except ConfigCheckError as err:
        fail(str(err))
    try:
        plain_model = plain_seg_model_cfg(cfg.model)
        ckpt = plain_seg_checkpoint(safe_torch_load(args.checkpoint, map_location='cpu'))
    except (ValueError, FileNotFoundError, CheckpointError) as err:
        fail(str(err).splitlines()[0])
    if not args.no_verify:
        from mmengine.registry import DefaultScope
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules

        register_all_modules(init_default_scope=False)
        with DefaultScope.overwrite_default_scope('mmseg'):
            model = MODELS.build(plain_model)
        try:
            model.load_state_dict(ckpt['state_dict'], strict=True)
        except RuntimeError as err:
            fail(
                f"exported weights do not load strictly into the plain model of '{args.config}': "
                + ' '.join(str(err).split())[:300]
            )
    cfg.model = plain_model
    with atomic_output(out_cfg) as tmp_cfg, atomic_output(args.out) as tmp_ckpt:
        cfg.dump(tmp_cfg)
        torch.save(ckpt, tmp_ckpt)
    print(
        f'wrote {args.out} ({len(ckpt["state_dict"])} tensors; dropped {ckpt["meta"]["dropped_keys"]}) '
        f'and {out_cfg} (EncoderDecoder)'
    )


if __name__ == '__main__':
    main()
