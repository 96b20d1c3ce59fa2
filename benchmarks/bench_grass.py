"""GraSS GS step vs SimCLR step: time and peak-memory ratios, measured in one run.

Step kinds at the same batch, view size and backbone, each with its optimizer step:

* ``simclr``: the warm-up step (one forward, one backward);
* ``gs``: this implementation (no-grad backbone pass to the guided stage, channels-last on
  CPU, dL/dA by ``autograd.grad`` on the tail only, batched LAM/DAR/crop, normal step; DAR
  labelling by scipy for CPU tensors, by device propagation otherwise);
* ``gs_nchw`` (not run by default): ``gs`` with an NCHW guidance pass (host labelling only);
* ``gs_prev``: the same step with the previous settings (``cc_backend='device'``: 18+ rounds of
  label propagation even on CPU, NCHW guidance pass), for before/after ratios in one run;
* ``orig``: the original procedure (full forward + full backward with a hook on the stage
  output, parameter grads thrown away, per-sample LAM/threshold/scikit-image labelling/crop
  in a CPU loop, normal step);
* ``simclr_cl`` (not run by default): the SimCLR step on channels-last views, to see what the
  memory format alone buys the plain step.

``--breakdown`` prints where one GS step spends its time instead (medians per phase).

Step times are medians of the kinds run interleaved in one process (noise from a shared
machine hits all kinds alike); ``--clock cpu`` times them by the process's CPU time, which a
busy machine disturbs far less (with ``OMP_NUM_THREADS=1``). For peak memory each kind runs
in its own subprocess: CUDA ``torch.cuda.max_memory_allocated``; CPU peak RSS
(``resource.getrusage`` ru_maxrss) above the RSS after model, optimizer and data were set up.

    python benchmarks/bench_grass.py --depth 50 --batch 16 --size 224 --iters 5
    OMP_NUM_THREADS=1 python benchmarks/bench_grass.py --depth 18 --batch 16 --size 128 \
        --modes simclr,gs,gs_prev,simclr_cl --clock cpu --no-memory
    python benchmarks/bench_grass.py --depth 18 --batch 16 --size 128 --breakdown
    python benchmarks/bench_grass.py --device cuda --depth 50 --batch 64 --size 224
    OMP_NUM_THREADS=1 python benchmarks/bench_grass.py --backbone swin-t --batch 4 --size 224 \
        --modes simclr,gs --clock cpu --no-memory

``--backbone`` (default ``resnet``, of ``--depth``) also takes ``swin-t``, ``convnext-t`` and ``vit-s-p16`` (the
backbones of the configs/grass/ configs, LAM from the last stage; ``orig`` and ``gs_prev`` are ResNet-only).
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

# the step clock: wall time, or with ``--clock cpu`` this process's CPU time (user + sys, all
# threads), which a busy shared machine disturbs far less; meant for OMP_NUM_THREADS=1, where it
# measures the work of the step
clock = time.perf_counter


# backbone of --backbone: (config, channels of its last stage); 'resnet' is ResNet of --depth. Swin-T and
# ConvNeXt-T keep all four output norms, as their pretraining configs do (configs/grass/grass_{swin,convnext}-t_*)
BACKBONES = {
    'swin-t': (
        dict(type='SwinTransformer', arch='tiny', img_size=224, drop_path_rate=0.0, out_indices=(0, 1, 2, 3)),
        768,
    ),
    'convnext-t': (dict(type='ConvNeXt', arch='tiny', gap_before_final_norm=False, out_indices=(0, 1, 2, 3)), 768),
    'vit-s-p16': (
        dict(type='VisionTransformer', arch='deit-small', img_size=224, patch_size=16, out_type='featmap'),
        384,
    ),
}


def build(depth, device, backbone='resnet'):
    from mmpretrain.registry import MODELS

    import grass_mm  # noqa: F401

    if backbone == 'resnet':
        bb, ch = dict(type='ResNet', depth=depth, out_indices=(3,)), 512 if depth < 50 else 2048
    else:
        bb, ch = BACKBONES[backbone]
    model = MODELS.build(
        dict(
            type='GraSS',
            backbone=bb,
            neck=dict(
                type='NonLinearNeck',
                in_channels=ch,
                hid_channels=2048,
                out_channels=128,
                num_layers=2,
                with_avg_pool=True,
                norm_cfg=dict(type='BN1d'),
            ),
            head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
        )
    )
    return model.to(device).train()


def model_name(args):
    return f'ResNet-{args.depth}' if args.backbone == 'resnet' else args.backbone


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
        crop = views[i : i + 1, :, ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        crops.append(F.interpolate(crop, size=(H, W), mode='nearest'))
    loss = model.contrastive_loss(model.backbone(torch.cat(crops)))
    loss.backward()
    optim.step()
    optim.zero_grad(set_to_none=True)
    return loss


def plain_step(model, views, optim):
    loss = model.contrastive_loss(model.backbone(model.guided_crops(views) if model.gs_enabled else views))
    loss.backward()
    optim.step()
    optim.zero_grad(set_to_none=True)
    return loss


def simclr_cl_step(model, views, optim):
    return plain_step(model, views.contiguous(memory_format=torch.channels_last), optim)


def set_mode(model, mode):
    """Configure the model for one step kind; returns the step function."""
    model.set_gs(mode in ('gs', 'gs_nchw', 'gs_prev'))
    model.cc_backend = 'device' if mode == 'gs_prev' else 'auto'
    model.guide_channels_last = False if mode in ('gs_nchw', 'gs_prev') else None
    return dict(orig=original_step, simclr_cl=simclr_cl_step).get(mode, plain_step)


def breakdown(args):
    """Median time of each phase of one GS step (the code of ``GraSS.guided_crops``)."""
    from grass_mm.selfsup.grass_functional import crop_and_resize, dar_boxes, loss_attention_map

    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.depth, device, args.backbone)
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    views = torch.randn(2 * args.batch, 3, args.size, args.size, device=device)
    H, W = views.shape[-2:]
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    times = {}

    def timed(name, fn, *args, **kwargs):
        sync()
        t = clock()
        out = fn(*args, **kwargs)
        sync()
        times.setdefault(name, []).append(clock() - t)
        return out

    def tail(outs, state):
        bb, stages = model.backbone, model._stages
        feat = stages.feature(bb, state).detach().requires_grad_(True)
        loss = model.contrastive_loss(model._forward_from(outs, stages.with_feature(bb, state, feat), model.gs_stage))
        return feat.detach(), torch.autograd.grad(loss, feat)[0]

    def train_step(x):  # the SimCLR step, on the views or on the crops
        model.set_gs(False)
        return plain_step(model, x, optim)

    for it in range(args.iters + 1):
        if it == 1:
            times.clear()  # the first round is warm-up
        timed('simclr step (reference)', train_step, views)
        cl = views.contiguous(memory_format=torch.channels_last)
        timed('guidance no-grad forward, NCHW', model._no_grad_to, views)
        outs, feat = timed('guidance no-grad forward, channels-last', model._no_grad_to, cl)
        feat, grad = timed('tail forward + dL/dA', tail, outs, feat)
        lam = timed('LAM + upsampling', loss_attention_map, feat, grad, (H, W), model.lam_norm)
        timed('DAR, device propagation', dar_boxes, lam, model.threshold, backend='device')
        boxes = timed('DAR, host (scipy)', dar_boxes, lam, model.threshold, backend='host')
        crops = timed('crop_and_resize', crop_and_resize, views, boxes, (H, W), model.crop_mode)
        timed('training fwd + bwd + step on crops', train_step, crops)
    ref = float(np.median(times['simclr step (reference)']))
    print(
        f'device={args.device} {model_name(args)} batch={args.batch} images '
        f'({2 * args.batch} views) {args.size}px, median of {args.iters} rounds, '
        f'{args.clock} clock, {torch.get_num_threads()} thread(s)'
    )
    for name, v in times.items():
        t = float(np.median(v))
        print(f'{name:42s} {t * 1e3:9.1f} ms   {t / ref:6.3f} x simclr step')


def child(args):
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.depth, device, args.backbone)
    step = set_mode(model, args.mode)
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    views = torch.randn(2 * args.batch, 3, args.size, args.size, device=device)
    # CPU: RSS high-water mark of the steps (warm-up included) above the set-up RSS
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step(model, views, optim)  # warm-up (allocator, momentum buffers)
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for _ in range(args.iters):
        t = clock()
        step(model, views, optim)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append(clock() - t)
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated() - base
    else:  # ru_maxrss is in KiB on Linux
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) * 1024
    print(json.dumps(dict(time=float(np.median(times)), peak=peak)))


def child_time(args):
    """Times of the step kinds, interleaved in one process (shared-machine noise hits
    all kinds alike)."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build(args.depth, device, args.backbone)
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    views = torch.randn(2 * args.batch, 3, args.size, args.size, device=device)
    modes = args.modes.split(',')
    times = {m: [] for m in modes}
    for it in range(args.iters + 1):
        for m in modes:
            step = set_mode(model, m)
            t = clock()
            step(model, views, optim)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            if it:  # the first round is warm-up
                times[m].append(clock() - t)
    print(json.dumps(times))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--backbone', default='resnet', choices=['resnet', *BACKBONES], help='GraSS backbone')
    p.add_argument('--batch', type=int, default=8, help='images (2x views)')
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--iters', type=int, default=3)
    p.add_argument(
        '--clock',
        choices=('wall', 'cpu'),
        default='wall',
        help="'cpu': process CPU time instead of wall time (robust on a shared "
        'machine; meant for OMP_NUM_THREADS=1; CUDA steps need wall)',
    )
    p.add_argument(
        '--modes',
        default='simclr,gs,gs_prev,orig',
        help='comma-separated: simclr (required), gs, gs_nchw, gs_prev, orig, simclr_cl',
    )
    p.add_argument('--breakdown', action='store_true', help='time the phases of one GS step')
    p.add_argument(
        '--no-memory', action='store_true', help='interleaved step times only (skip the per-kind memory subprocesses)'
    )
    p.add_argument('--mode', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.clock == 'cpu' and args.device.startswith('cuda'):
        sys.exit('--clock cpu measures CPU work; time CUDA steps with --clock wall')
    global clock
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    if args.breakdown:
        return breakdown(args)
    if args.mode == 'time':
        return child_time(args)
    if args.mode:
        return child(args)
    modes = args.modes.split(',')
    kinds = ('simclr', 'gs', 'gs_nchw', 'gs_prev', 'orig', 'simclr_cl')
    if 'simclr' not in modes or any(m not in kinds for m in modes):
        sys.exit(f'--modes must name simclr and any of {", ".join(kinds[1:])}; got {args.modes!r}')
    if args.backbone != 'resnet' and {'orig', 'gs_prev'} & set(modes):
        sys.exit(
            f'--modes orig and gs_prev time ResNet procedures; use --modes simclr,gs with --backbone {args.backbone}'
        )
    res = {m: dict(peak=float('nan')) for m in modes}
    for mode in [] if args.no_memory else modes:
        cmd = [sys.executable, __file__, '--mode', mode] + [
            f'--{k}={getattr(args, k)}' for k in ('device', 'depth', 'backbone', 'batch', 'size', 'iters', 'clock')
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        if out.returncode:
            sys.exit(f'{mode} failed:\n{out.stderr[-3000:]}')
        res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f'{mode:7s} step {res[mode]["time"]:.3f} s   peak {res[mode]["peak"] / 2**20:.1f} MiB')
    cmd = [sys.executable, __file__, '--mode', 'time'] + [
        f'--{k}={getattr(args, k)}' for k in ('device', 'depth', 'backbone', 'batch', 'size', 'iters', 'modes', 'clock')
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
    if out.returncode:
        sys.exit(f'interleaved timing failed:\n{out.stderr[-3000:]}')
    rounds = {m: np.array(v) for m, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    for mode in res:
        res[mode]['time'] = float(np.median(rounds[mode]))
    print('interleaved step times (one process): ' + '  '.join(f'{m} {res[m]["time"]:.3f} s' for m in modes))
    s = res['simclr']
    mem = 'CUDA max_memory_allocated' if args.device.startswith('cuda') else 'CPU peak RSS (getrusage)'
    print(
        f'device={args.device} {model_name(args)} batch={args.batch} images '
        f'({2 * args.batch} views) {args.size}px, median of {args.iters} steps, '
        f'{args.clock} clock, {torch.get_num_threads()} thread(s); memory: {mem}'
    )
    print(
        'time ratio = median over rounds of the ratio of the two steps of one round '
        '(run back to back, they share the load of the moment); [min, max] over rounds'
    )

    def ratio(a, b):
        r = rounds[a] / rounds[b]
        return f'time ratio {np.median(r):.2f} [{r.min():.2f}, {r.max():.2f}]'

    for mode in kinds[1:]:
        if mode in res:
            mem = '' if args.no_memory else f'   peak-memory ratio {res[mode]["peak"] / max(s["peak"], 1):.2f}'
            print(f'{mode}/simclr: {ratio(mode, "simclr")}{mem}')
    if 'gs' in res and 'simclr_cl' in res:
        print(f'gs/simclr_cl: {ratio("gs", "simclr_cl")}')


if __name__ == '__main__':
    main()
