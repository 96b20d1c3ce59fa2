"""GraSS GS step vs SimCLR step: time and peak-memory ratios, measured in one run.

Three step kinds at the same batch, view size and backbone, each with its optimizer step:

* ``simclr``: the warm-up step (one forward, one backward);
* ``gs``: this implementation (no-grad backbone pass to the guided stage, dL/dA by
  ``autograd.grad`` on the tail only, batched LAM/DAR/crop on the device, normal step);
* ``orig``: the original procedure (full forward + full backward with a hook on the stage
  output, parameter grads thrown away, per-sample LAM/threshold/scikit-image labelling/crop
  in a CPU loop, normal step).

Step times are medians of the kinds run interleaved in one process (noise from a shared
machine hits all kinds alike). For peak memory each kind runs in its own subprocess: CUDA
``torch.cuda.max_memory_allocated``; CPU peak RSS (``resource.getrusage`` ru_maxrss) above the
RSS after model, optimizer and data were set up.

    python benchmarks/bench_grass.py --depth 50 --batch 16 --size 224 --iters 5
    python benchmarks/bench_grass.py --device cuda --depth 50 --batch 64 --size 224
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def build(depth, device):
    from mmpretrain.registry import MODELS
    import grass_mm  # noqa: F401
    ch = 512 if depth < 50 else 2048
    model = MODELS.build(dict(
        type='GraSS',
        backbone=dict(type='ResNet', depth=depth, out_indices=(3, )),
        neck=dict(type='NonLinearNeck', in_channels=ch, hid_channels=2048, out_channels=128,
                  num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5)))
    return model.to(device).train()


def original_step(model, views, optim):
    """The original procedure: two full forwards and backwards, per-sample CPU crops."""
    from skimage.measure import label
    store = {}
    layer = getattr(model.backbone, model.backbone.res_layers[model.gs_stage])

    def hook(module, inputs, out):
        out.retain_grad()
        store['A'] = out

    h = layer.register_forward_hook(hook)
    loss = model.contrastive_loss(model.backbone(views))
    loss.backward()
    h.remove()
    optim.zero_grad(set_to_none=True)
    A, G = store['A'].detach(), store['A'].grad
    H, W = views.shape[-2:]
    crops = []
    for i in range(len(views)):  # per-sample loop with host syncs, as the original
        cam = (G[i].mean(dim=(1, 2))[:, None, None] * A[i]).mean(0)
        cam = cam / cam.max()
        cam = F.interpolate(cam[None, None], size=(H, W), mode='bilinear')[0, 0].cpu().numpy()
        mask = cam > cam.min() + model.threshold * (cam.max() - cam.min())
        lab = label(mask, connectivity=2)
        y, x = np.unravel_index(cam.argmax(), cam.shape)
        ys, xs = np.where(lab == lab[y, x])
        crop = views[i:i + 1, :, ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        crops.append(F.interpolate(crop, size=(H, W), mode='nearest'))
    loss = model.contrastive_loss(model.backbone(torch.cat(crops)))
    loss.backward()
    optim.step()
    optim.zero_grad(set_to_none=True)
    return loss


def plain_step(model, views, optim):
    loss = model.contrastive_loss(
        model.backbone(model.guided_crops(views) if model.gs_enabled else views))
    loss.backward()
    optim.step()
    optim.zero_grad(set_to_none=True)
    return loss


def child(args):
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.depth, device)
    model.set_gs(args.mode == 'gs')
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    views = torch.randn(2 * args.batch, 3, args.size, args.size, device=device)
    step = original_step if args.mode == 'orig' else plain_step
    # CPU: RSS high-water mark of the steps (warm-up included) above the set-up RSS
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step(model, views, optim)  # warm-up (allocator, momentum buffers)
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for _ in range(args.iters):
        t = time.perf_counter()
        step(model, views, optim)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated() - base
    else:  # ru_maxrss is in KiB on Linux
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) * 1024
    print(json.dumps(dict(time=float(np.median(times)), peak=peak)))


def child_time(args):
    """Times of the three step kinds, interleaved in one process (shared-machine noise hits
    all kinds alike)."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.depth, device)
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    views = torch.randn(2 * args.batch, 3, args.size, args.size, device=device)
    modes = args.modes.split(',')
    times = {m: [] for m in modes}
    for it in range(args.iters + 1):
        for m in modes:
            model.set_gs(m == 'gs')
            t = time.perf_counter()
            (original_step if m == 'orig' else plain_step)(model, views, optim)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            if it:  # the first round is warm-up
                times[m].append(time.perf_counter() - t)
    print(json.dumps({m: float(np.median(v)) for m, v in times.items()}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--batch', type=int, default=8, help='images (2x views)')
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--modes', default='simclr,gs,orig')
    p.add_argument('--mode', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode == 'time':
        return child_time(args)
    if args.mode:
        return child(args)
    res = {}
    for mode in args.modes.split(','):
        cmd = [sys.executable, __file__, '--mode', mode] + [
            f'--{k}={getattr(args, k)}' for k in ('device', 'depth', 'batch', 'size', 'iters')]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        if out.returncode:
            sys.exit(f'{mode} failed:\n{out.stderr[-3000:]}')
        res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f'{mode:7s} step {res[mode]["time"]:.3f} s   peak {res[mode]["peak"] / 2**20:.1f} MiB')
    cmd = [sys.executable, __file__, '--mode', 'time'] + [
        f'--{k}={getattr(args, k)}' for k in ('device', 'depth', 'batch', 'size', 'iters', 'modes')]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
    if out.returncode:
        sys.exit(f'interleaved timing failed:\n{out.stderr[-3000:]}')
    inter = json.loads(out.stdout.strip().splitlines()[-1])
    for mode in res:
        res[mode]['time'] = inter[mode]
    print('interleaved step times (one process): ' +
          '  '.join(f'{m} {t:.3f} s' for m, t in inter.items()))
    s = res['simclr']
    mem = 'CUDA max_memory_allocated' if args.device.startswith('cuda') else 'CPU peak RSS (getrusage)'
    print(f'device={args.device} ResNet-{args.depth} batch={args.batch} images '
          f'({2 * args.batch} views) {args.size}px, median of {args.iters} steps; memory: {mem}')
    for mode in ('gs', 'orig'):
        if mode in res:
            print(f'{mode}/simclr: time ratio {res[mode]["time"] / s["time"]:.2f}   '
                  f'peak-memory ratio {res[mode]["peak"] / max(s["peak"], 1):.2f}')


if __name__ == '__main__':
    main()
