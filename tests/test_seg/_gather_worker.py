"""One case of both components, run on a whole batch or as one rank of a 2-process gloo group.

Used by ``test_seg_gather.py`` (``torch.multiprocessing`` runs :func:`rank_main`; a spawned rank imports it by name).

Random draws: each rank seeds as mmengine's ``randomness=dict(seed=SEED, diff_rank_seed=True)`` does (seed + rank),
so the ranks draw different numbers. Every draw of the components is one number per flattened entry (pixel or
patch) of the local batch, ``(..., N)`` with the entries in image order; the single-process reference on the
concatenated batch (``(..., W * N)``, rank-major like the global indices of :mod:`grass_mm.seg.gather`) takes, for
each draw, rank r's numbers from a generator seeded seed + r (:func:`per_rank_draws`).
"""

import contextlib
import os

import torch

B, C, WORLD = 2, 3, 2  # images per rank, classes, ranks
SEED = 0
DRAWS = ('rand', 'randint')  # the torch functions the components draw with


def make_case(gather: bool):
    """Both heads (same weights for any ``gather``) and a 4-image batch (deterministic). Few samples per class,
    random negatives and few BANE negatives: which entries the random draws pick changes the losses."""
    from grass_mm.seg import PatchContrastHead, PixelAnchorHead

    torch.manual_seed(0)
    patch = PatchContrastHead(
        in_channels=[8, 16],
        in_index=[0, 1],
        num_classes=C,
        channels=6,
        hard_negatives=False,  # random negatives
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
        k_percent=50,
        max_samples=6,  # random samples per class
        max_hard=4,  # BANE: equal distances ordered at random
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


@contextlib.contextmanager
def replaced_draws(make):
    """``torch.rand`` / ``torch.randint`` replaced by ``make(name, original)`` inside the block; each replacement
    appends what it returns to the list the block gets."""
    originals = {name: getattr(torch, name) for name in DRAWS}
    log = []

    def logged(fn):
        def draw(*args, **kwargs):
            out = fn(*args, **kwargs)
            log.append(out.clone())
            return out

        return draw

    try:
        for name, fn in originals.items():
            setattr(torch, name, logged(make(name, fn)))
        yield log
    finally:
        for name, fn in originals.items():
            setattr(torch, name, fn)


def per_rank_draws(seeds):
    """For :func:`replaced_draws` in one process: a draw of shape ``(..., W * N)`` is the concatenation along the
    last dimension of ``W`` draws of shape ``(..., N)``, the r-th from a generator seeded ``seeds[r]`` (what rank r
    draws for its ``N`` entries after seeding with ``seeds[r]``)."""
    gens = [torch.Generator().manual_seed(s) for s in seeds]

    def make(name, fn):
        def draw(*args, generator=None, **kwargs):
            assert generator is None, f'torch.{name} with its own generator'
            *bounds, size = args  # torch.rand(size) / torch.randint(low, high, size)
            *lead, n = size
            assert n % len(gens) == 0, (name, size)
            parts = [fn(*bounds, (*lead, n // len(gens)), generator=g, **kwargs) for g in gens]
            return torch.cat(parts, dim=-1)

        return draw

    return make


def rank_main(rank: int, port: int, out_dir: str):
    import torch.distributed as dist
    from mmengine.runner import set_random_seed

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        patch, anchor, feats, dec, gt, logits = make_case(gather=True)  # same weights and batch on every rank
        set_random_seed(SEED, diff_rank_seed=True)  # what the runtime bases' randomness does: seed + rank
        sl = slice(rank * B, (rank + 1) * B)
        with replaced_draws(lambda name, fn: fn) as draws:
            out = run(patch, anchor, [f[sl] for f in feats], dec[sl], gt[sl], logits[sl])
        out['draws'] = draws
        for g in out['param_grads'].values():  # what DDP does: average over ranks
            dist.all_reduce(g)
            g /= WORLD
        torch.save(out, os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()
