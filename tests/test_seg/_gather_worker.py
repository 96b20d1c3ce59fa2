"""One case of both components, run on a whole batch or as one rank of a 2-process gloo group.

Used by ``test_seg_gather.py`` (``torch.multiprocessing.spawn`` pickles :func:`rank_main` by module name).
"""

import os

import torch

B, C, WORLD = 2, 3, 2  # images per rank, classes, ranks


def make_case(gather: bool):
    """Both heads (same weights for any ``gather``) and a 4-image batch (deterministic)."""
    from grass_mm.seg import PatchContrastHead, PixelAnchorHead

    torch.manual_seed(0)
    patch = PatchContrastHead(
        in_channels=[8, 16],
        in_index=[0, 1],
        num_classes=C,
        channels=6,
        hard_negatives=True,
        max_pos=6,
        max_neg=5,
        pairing='paired',
        gather=gather,
    )
    anchor = PixelAnchorHead(
        in_channels=[8],
        in_index=[0],
        decoder_channels=5,
        num_classes=C,
        channels=4,
        k_percent=100,
        max_samples=10**4,
        max_hard=10**4,
        gather=gather,
    ).eval()
    n = B * WORLD
    feats = [torch.randn(n, 8, 8, 8), torch.randn(n, 16, 4, 4)]
    dec = torch.randn(n, 5, 8, 8)
    cells = torch.randint(0, C, (n, 1, 4, 4)).float()
    gt = torch.nn.functional.interpolate(cells, size=(16, 16), mode='nearest').long()
    gt[0, 0, :2] = 255
    logits = torch.randn(n, C, 8, 8)
    return patch, anchor, feats, dec, gt, logits


def run(patch, anchor, feats, dec, gt, logits):
    """Losses, input gradients and parameter gradients of one forward/backward."""
    feats = [f.clone().requires_grad_() for f in feats]
    dec = dec.clone().requires_grad_()
    lp = patch.loss(feats, logits, gt)['loss_patch_contrast']
    la = anchor.loss(feats, logits, gt, dec)['loss_pixel_anchor']
    (lp + la).backward()
    params = {f'patch.{k}': p.grad.clone() for k, p in patch.named_parameters()}
    params.update({f'anchor.{k}': p.grad.clone() for k, p in anchor.named_parameters()})
    return dict(
        loss_patch=lp.detach(),
        loss_anchor=la.detach(),
        feat_grads=[f.grad for f in feats],
        dec_grad=dec.grad,
        param_grads=params,
    )


def rank_main(rank: int, port: int, out_dir: str):
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        patch, anchor, feats, dec, gt, logits = make_case(gather=True)
        sl = slice(rank * B, (rank + 1) * B)
        out = run(patch, anchor, [f[sl] for f in feats], dec[sl], gt[sl], logits[sl])
        for g in out['param_grads'].values():  # what DDP does: average over ranks
            dist.all_reduce(g)
            g /= WORLD
        torch.save(out, os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()
