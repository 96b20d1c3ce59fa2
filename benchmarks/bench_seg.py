"""Cost of the segmentation-side contrastive components, measured in one run.

For UPerNet / FCN with a ResNet backbone, the same weights and the same batch, prints the ratios
(with component / plain model) of the training step time (forward + backward + SGD step), of the peak
memory of training and of the inference time, for A = patch-contrast head, B = pixel-anchor loss, A+B.
Times come from one process that runs the four variants round-robin (load drift hits them alike).
Peak memory comes from one subprocess per variant that builds only that model and trains it: CUDA
``torch.cuda.max_memory_allocated``; CPU the peak RSS (``resource.getrusage`` ru_maxrss) above the RSS
before the model was built, so both count weights, gradients, momentum and activations. It also checks
that test-mode ``predict`` calls no module of the components (forward hooks) and gives the same logits as
the plain model.

Targets (issue 5): step time +<=10% (A), +<=15% (B); peak memory +<=10%; inference equal within noise.

    python benchmarks/bench_seg.py                       # CPU-sized defaults (R18, 2 x 128 x 128)
    python benchmarks/bench_seg.py --device cuda --depth 50 --batch 8 --size 512 --iters 20
"""

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time

import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

import grass_mm  # noqa: F401


def model_cfg(decode, depth, num_classes, patch, anchor):
    chans = [64, 128, 256, 512] if depth in (18, 34) else [256, 512, 1024, 2048]
    norm_cfg = dict(type='BN', requires_grad=True)
    backbone = dict(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3), norm_cfg=norm_cfg, init_cfg=None)
    if decode == 'uper':
        head = dict(
            type='UPerHead',
            in_channels=chans,
            in_index=[0, 1, 2, 3],
            pool_scales=(1, 2, 3, 6),
            channels=512 if depth == 50 else 128,
        )
    else:
        backbone.update(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
        head = dict(
            type='FCNHead',
            in_channels=chans[3],
            in_index=3,
            channels=512 if depth == 50 else 128,
            num_convs=2,
            concat_input=True,
        )
    head.update(
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    )
    cfg = dict(
        type='ContrastEncoderDecoder',
        backbone=backbone,
        decode_head=head,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'),
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            seg_pad_val=255,
        ),
    )
    if patch:
        cfg['patch_contrast_head'] = dict(type='PatchContrastHead', in_index=[2, 3], in_channels=chans[2:])
    if anchor:
        cfg['pixel_anchor_head'] = dict(
            type='PixelAnchorHead', in_index=[1, 2, 3], in_channels=chans[1:], decoder_channels=head['channels']
        )
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(ConfigDict(cfg))


def make_batch(b, size, num_classes, device):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(b, 3, size, size, generator=g).to(device)
    samples = []
    for _ in range(b):
        # blocky label map (objects of 16..64 px) so that pure patches and boundaries exist
        cells = torch.randint(0, num_classes, (1, 1, size // 16, size // 16), generator=g).float()
        gt = torch.nn.functional.interpolate(cells, size=(size, size), mode='nearest').long()[0]
        d = SegDataSample()
        d.gt_sem_seg = PixelData(data=gt.to(device))
        d.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        samples.append(d)
    return x, samples


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


VARIANTS = {'plain': (False, False), 'A': (True, False), 'B': (False, True), 'A+B': (True, True)}


def train_step(model, opt, x, samples):
    opt.zero_grad()
    sum(v for n, v in model.loss(x, samples).items() if 'loss' in n).backward()
    opt.step()


def child_memory(args):
    """Peak training memory of one variant, alone in this process (printed as JSON)."""
    cuda = args.device.startswith('cuda')
    x, samples = make_batch(args.batch, args.size, args.num_classes, args.device)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.manual_seed(0)
    model = model_cfg(args.decode, args.depth, args.num_classes, *VARIANTS[args.variant]).to(args.device)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    for _ in range(args.warmup + 1):
        train_step(model, opt, x, samples)
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:  # ru_maxrss is in KiB on Linux
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) * 1024
    print(json.dumps(dict(peak=peak)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--decode', default='uper', choices=['uper', 'fcn'])
    p.add_argument('--depth', type=int, default=18)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--num-classes', type=int, default=6)
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--variant', choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = p.parse_args()
    register_all_modules(init_default_scope=False)
    if args.variant:
        return child_memory(args)
    mems = {}
    for k in VARIANTS:
        cmd = [sys.executable, __file__, '--variant', k] + [
            f'--{a.replace("_", "-")}={getattr(args, a)}'
            for a in ('device', 'decode', 'depth', 'batch', 'size', 'num_classes', 'warmup')
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        if out.returncode:
            sys.exit(f'memory run of {k} failed:\n{out.stderr[-3000:]}')
        mems[k] = json.loads(out.stdout.strip().splitlines()[-1])['peak']
    torch.manual_seed(0)
    variants = VARIANTS
    models = {k: model_cfg(args.decode, args.depth, args.num_classes, *v).to(args.device) for k, v in variants.items()}
    state = models['A+B'].state_dict()
    for m in models.values():  # same weights everywhere
        m.load_state_dict(state, strict=False)
    x, samples = make_batch(args.batch, args.size, args.num_classes, args.device)

    # test mode: no component module is called and the logits equal the plain model's
    calls = []
    for name in ('patch_contrast_head', 'pixel_anchor_head'):
        for mod in getattr(models['A+B'], name).modules():
            mod.register_forward_hook(lambda *a, n=name: calls.append(n))
    with torch.no_grad():
        out = models['A+B'].eval().predict(x, copy.deepcopy(samples))
        ref = models['plain'].eval().predict(x, copy.deepcopy(samples))
    same = all(torch.allclose(a.seg_logits.data, b.seg_logits.data) for a, b in zip(out, ref, strict=True))
    n_calls = len(calls)
    print(f'test-mode extra module calls: {n_calls}; logits equal to plain model: {same}')

    # round-robin (one step of each variant in turn, median over rounds) so that load drift on a shared
    # machine hits all variants alike
    opts = {k: torch.optim.SGD(m.parameters(), lr=1e-4, momentum=0.9) for k, m in models.items()}
    steps = {k: [] for k in models}
    infs = {k: [] for k in models}
    for r in range(args.warmup + args.iters):
        for k, m in models.items():
            m.train()
            sync(args.device)
            t = time.perf_counter()
            train_step(m, opts[k], x, samples)
            sync(args.device)
            if r >= args.warmup:
                steps[k].append(time.perf_counter() - t)
            m.eval()
            with torch.no_grad():
                t = time.perf_counter()
                m.predict(x, copy.deepcopy(samples))
                sync(args.device)
            if r >= args.warmup:
                infs[k].append(time.perf_counter() - t)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    res = {k: (med(steps[k]), mems[k], med(infs[k])) for k in models}
    print(
        f'device={args.device} decode={args.decode} depth={args.depth} batch={args.batch} '
        f'size={args.size} iters={args.iters}; memory: '
        f'{"CUDA max_memory_allocated" if args.device.startswith("cuda") else "CPU peak RSS above set-up"}'
    )
    print(
        f'{"variant":8s} {"step s":>9s} {"step x":>7s} {"peak MiB":>9s} {"mem x":>6s} {"infer s":>9s} {"infer x":>7s}'
    )
    base = res['plain']
    for k, (step, mem, inf) in res.items():
        print(
            f'{k:8s} {step:9.4f} {step / base[0]:7.3f} {mem / 2**20:9.1f} {mem / base[1]:6.3f} '
            f'{inf:9.4f} {inf / base[2]:7.3f}'
        )
    if n_calls or not same:
        raise SystemExit('FAIL: test-mode forward differs from the plain model')


if __name__ == '__main__':
    main()
