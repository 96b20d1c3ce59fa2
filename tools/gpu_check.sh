#!/usr/bin/env bash
# GPU checks of grass_mm on a CUDA node, in a few minutes; one line per check (PASS / FAIL / SKIP):
#   * one guided GraSS step per backbone of configs/grass (ResNet-50, Swin-T, ConvNeXt-T, ViT-S/16), 16 views of 224 px
#     of the shipped Dubai tiles: DAR boxes of the guidance pass under fp16 and bf16 autocast against fp32 (>= 99%
#     identical), and the whole GS step's loss finite in each precision;
#   * a GS step without a host-device sync (torch.cuda.set_sync_debug_mode('error'));
#   * a 2-GPU DDP GraSS step (torchrun, NCCL, SyncBN, AmpOptimWrapper fp16): warm-up + GS step, same weights on both
#     ranks afterwards (SKIP with fewer than 2 GPUs);
#   * the segmentation contrast heads under AMP: UPerNet-R50 + patch-contrast + pixel-anchor, one train step with
#     AmpOptimWrapper in fp16 and in bf16, finite losses.
# Exit status: 0 all checks passed, 1 a check failed, 2 no CUDA device (nothing checked).
#
#   bash tools/gpu_check.sh                 # PYTHON=... for another interpreter
#   GPU_CHECK_DEVICE=cpu bash tools/gpu_check.sh   # the same checks at tiny sizes on CPU (gloo), to test the script
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "gpu_check: $PYTHON cannot import torch: nothing checked (source .venv/bin/activate, or set PYTHON=...)"
  exit 2
fi
SCRIPT=$(mktemp "${TMPDIR:-/tmp}/grass_gpu_check.XXXXXX.py")
trap 'rm -f "$SCRIPT"' EXIT
cat > "$SCRIPT" <<'PY'
import os
import sys
import time

import torch

CPU = os.environ.get('GPU_CHECK_DEVICE') == 'cpu'  # test mode: tiny sizes on CPU
DEV = 'cpu' if CPU else 'cuda'
SIZE, VIEWS = (64, 8) if CPU else (224, 16)
BACKBONES = ('resnet50', 'swin-t', 'convnext-t', 'vit-s-p16')
failed = []


def line(ok, name, msg, t0=None):
    took = f' [{time.time() - t0:.1f} s]' if t0 is not None else ''
    print(f'{"PASS" if ok is True else "SKIP" if ok is None else "FAIL"} {name}: {msg}{took}', flush=True)
    if ok is False:
        failed.append(name)


def grass_model(name):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    import grass_mm  # noqa: F401

    if name == 'resnet50':
        cfg = Config.fromfile('configs/grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py').model
    else:
        cfg = Config.fromfile(f'configs/grass/grass_{name}_8xb32-coslr-350e_tiles-potsdam.py').model
    if CPU:  # tiny widths, 64 px
        tiny = {
            'resnet50': dict(type='ResNet', depth=18, base_channels=16, stem_channels=16, out_indices=(3,)),
            'swin-t': dict(
                type='SwinTransformer', arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]),
                img_size=64, window_size=2),
            'convnext-t': dict(type='ConvNeXt', arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]),
                               gap_before_final_norm=False),
            'vit-s-p16': dict(type='VisionTransformer', arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                              feedforward_channels=64), img_size=64, patch_size=16, out_type='featmap'),
        }[name]
        cfg.backbone = tiny
        cfg.neck.update(in_channels={'resnet50': 128, 'swin-t': 128, 'convnext-t': 64, 'vit-s-p16': 32}[name],
                        hid_channels=64)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg).to(DEV).train()


def views(n):
    """n normalised crops of the shipped Dubai tiles (real imagery), (n, 3, SIZE, SIZE)."""
    import glob

    import numpy as np
    from PIL import Image

    files = sorted(glob.glob('grass_mm/demo/dubai_aerial/tile_[1-5]/images/*.jpg'))
    rng = np.random.default_rng(0)
    crops = []
    for _ in range(n):
        img = np.asarray(Image.open(files[rng.integers(len(files))]).convert('RGB'), dtype=np.float32)
        y, x = rng.integers(img.shape[0] - SIZE), rng.integers(img.shape[1] - SIZE)
        crops.append(img[y:y + SIZE, x:x + SIZE])
    v = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)
    mean = torch.tensor([123.675, 116.28, 103.53])[:, None, None]
    std = torch.tensor([58.395, 57.12, 57.375])[:, None, None]
    return ((v - mean) / std).contiguous().to(DEV)


def guided_steps():
    v = views(VIEWS)
    for name in BACKBONES:
        t0 = time.time()
        try:
            model = grass_model(name)
            torch.manual_seed(0)  # the same stochastic-depth draws in every pass (Swin, ConvNeXt: drop_path_rate)
            with torch.autocast(DEV, enabled=False):
                _, _, ref = model.guided_crops(v, return_maps=True)
            for dtype in (torch.float32, torch.float16, torch.bfloat16):
                t0 = time.time()
                torch.manual_seed(0)
                with torch.autocast(DEV, dtype=dtype, enabled=dtype != torch.float32):
                    _, _, boxes = model.guided_crops(v, return_maps=True)
                    model.set_gs(True)
                    loss = model.loss([v[0::2], v[1::2]], None)['loss']
                loss.backward()
                model.zero_grad(set_to_none=True)
                same = int((boxes == ref).all(dim=1).sum())
                ok = same >= 0.99 * len(ref) and bool(torch.isfinite(loss))
                tag = str(dtype).replace('torch.', '')
                line(ok, f'guided step {name} {tag}',
                     f'{same}/{len(ref)} DAR boxes = fp32 ({100 * same / len(ref):.1f}%), '
                     f'GS loss {float(loss.detach()):.3f}',
                     t0)
        except Exception as e:  # noqa: BLE001  (one line per check, then the next)
            line(False, f'guided step {name}', f'{type(e).__name__}: {str(e).splitlines()[0][:200]}', t0)


def no_sync():
    t0 = time.time()
    if CPU:
        return line(None, 'GS step without host sync', 'needs CUDA (torch.cuda.set_sync_debug_mode)')
    try:
        model = grass_model('resnet50')
        model.set_gs(True)
        v = views(VIEWS)
        model.loss([v[0::2], v[1::2]], None)['loss'].backward()  # warm-up: cuDNN, allocator
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode('error')
        try:
            model.loss([v[0::2], v[1::2]], None)['loss'].backward()
        finally:
            torch.cuda.set_sync_debug_mode('default')
        line(True, 'GS step without host sync', 'ResNet-50 guided step under set_sync_debug_mode("error")', t0)
    except Exception as e:  # noqa: BLE001
        line(False, 'GS step without host sync', f'{type(e).__name__}: {str(e).splitlines()[0][:200]}', t0)


def seg_heads_amp():
    from mmengine.config import Config
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import grass_mm  # noqa: F401

    cfg = Config.fromfile('configs/pixel_anchor/upernet_r50_patch-contrast_pixel-anchor_4xb4-80k_potsdam-512x512.py').model
    size = 64 if CPU else 512
    cfg.data_preprocessor.size = (size, size)
    for dtype in ('float16', 'bfloat16'):
        t0 = time.time()
        try:
            torch.manual_seed(0)
            with DefaultScope.overwrite_default_scope('mmseg'):
                model = MODELS.build(cfg).to(DEV).train()
            optim = torch.optim.SGD(model.parameters(), lr=0.01)
            wrapper = OptimWrapper(optim) if CPU else AmpOptimWrapper(optimizer=optim, dtype=dtype)
            samples = []
            for i in range(2):
                gt = torch.zeros(1, size, size, dtype=torch.long)
                gt[:, :, size // 2:] = 1
                gt[:, size // 2:, :] = 2 + i
                d = SegDataSample(gt_sem_seg=PixelData(data=gt))
                d.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
                samples.append(d)
            data = dict(inputs=[(torch.rand(3, size, size) * 255).to(torch.uint8) for _ in range(2)],
                        data_samples=samples)
            with torch.autocast(DEV, dtype=getattr(torch, dtype), enabled=CPU):  # CPU: emulate the AMP context
                log = model.train_step(data, wrapper)
            heads = {k: float(torch.as_tensor(v).detach()) for k, v in log.items() if 'loss' in k}
            ok = all(torch.isfinite(torch.tensor(v)) for v in heads.values())
            shown = ', '.join(f'{k} {v:.3f}' for k, v in heads.items() if k != 'loss')
            line(ok, f'seg heads AMP {dtype}', f'UPerNet + patch-contrast + pixel-anchor train step: {shown}', t0)
        except Exception as e:  # noqa: BLE001
            line(False, f'seg heads AMP {dtype}', f'{type(e).__name__}: {str(e).splitlines()[0][:200]}', t0)


def ddp_worker():
    """Under torchrun: a warm-up and a GS step of SyncBN GraSS-R50 in DDP with AmpOptimWrapper fp16."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    rank = int(os.environ['RANK'])
    dist.init_process_group('gloo' if CPU else 'nccl')
    if not CPU:
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
    global DEV
    DEV = 'cpu' if CPU else f'cuda:{os.environ["LOCAL_RANK"]}'
    model = grass_model('resnet50')
    if CPU:  # SyncBN needs a GPU
        from mmengine.model import revert_sync_batchnorm

        model = revert_sync_batchnorm(model)
    ddp = MMDistributedDataParallel(module=model, device_ids=None if CPU else [torch.cuda.current_device()])
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    wrapper = OptimWrapper(optim) if CPU else AmpOptimWrapper(optimizer=optim)
    g = torch.Generator().manual_seed(rank)
    for step in range(2):
        model.set_gs(step == 1)
        inputs = [(torch.rand(VIEWS // 2, 3, SIZE, SIZE, generator=g) * 255).to(DEV) for _ in range(2)]
        log = ddp.train_step(dict(inputs=inputs, data_samples=None), wrapper)
    flat = torch.cat([p.detach().float().flatten() for p in model.parameters()])
    both = [torch.zeros_like(flat) for _ in range(2)]
    dist.all_gather(both, flat)
    if rank == 0:
        same = torch.equal(both[0], both[1])
        print(f'DDP_RESULT {int(same)} {float(log["loss"]):.3f}', flush=True)
    dist.destroy_process_group()


def ddp():
    import subprocess

    t0 = time.time()
    if not CPU and torch.cuda.device_count() < 2:
        return line(None, 'DDP GraSS step 2 GPUs', f'needs 2 GPUs, {torch.cuda.device_count()} visible')
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={port}', __file__, 'ddp']
    out = subprocess.run(cmd, capture_output=True, text=True)
    res = [ln for ln in out.stdout.splitlines() if ln.startswith('DDP_RESULT')]
    if out.returncode or not res:
        tail = (out.stderr.strip().splitlines() or ['no output'])[-1][:200]
        return line(False, 'DDP GraSS step 2 GPUs', f'exit {out.returncode}: {tail}', t0)
    _, same, loss = res[0].split()
    line(same == '1', 'DDP GraSS step 2 GPUs',
         f'SyncBN GraSS-R50, AMP fp16, warm-up + GS step: weights {"equal" if same == "1" else "DIFFER"} on both '
         f'ranks, loss {loss}', t0)


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'ddp':
        ddp_worker()
        sys.exit(0)
    if not CPU and not torch.cuda.is_available():
        print(f'gpu_check: no CUDA device (torch {torch.__version__}, torch.cuda.is_available() is False): '
              'nothing checked; run it on a GPU node', flush=True)
        sys.exit(2)
    where = 'CPU test mode (tiny sizes)' if CPU else torch.cuda.get_device_name(0)
    print(f'gpu_check on {where}, torch {torch.__version__}', flush=True)
    t_all = time.time()
    guided_steps()
    no_sync()
    ddp()
    seg_heads_amp()
    print(f'gpu_check: {"all passed" if not failed else "FAILED: " + ", ".join(failed)} '
          f'[{time.time() - t_all:.0f} s]', flush=True)
    sys.exit(1 if failed else 0)
PY
PYTHONPATH="$(pwd)":${PYTHONPATH:-} "$PYTHON" "$SCRIPT" "$@"
