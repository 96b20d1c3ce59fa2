"""Tensor math of GraSS gradient-guided sampling (arXiv 2306.15868).

Pure functions, batched on the tensors' device, with no per-sample Python loop and no
host-device synchronisation (no ``.item()``, ``.cpu()``, ``.nonzero()``; CPU tensors are
labelled by scipy in place, which is no transfer):

* :func:`loss_attention_map` - Grad-CAM style Loss Attention Map (LAM) from a feature map A
  and the loss gradient dL/dA.
* :func:`connected_components` - 8-connected component labels of a batch of binary masks
  (max-pool label propagation with pointer jumping), on any device.
* :func:`connected_components_host` - the same partition from ``scipy.ndimage.label`` for CPU
  tensors (exact, one call for the whole batch).
* :func:`dar_boxes` - Discrimination Attention Region: threshold the LAM, keep the component
  that holds the LAM maximum, return its bounding box.
* :func:`random_box_positions` - the same boxes moved to uniformly random positions (the
  random-box control: DAR sizes, no gradient guidance).
* :func:`crop_and_resize` - cut one box per image and resize it back to a given size.
* :func:`nt_xent_index` - static gather index of SimCLR's NT-Xent logits (positive first).
"""

from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

LAM_NORMS = ('original', 'relu', 'minmax')
BOX_MODES = ('dar', 'random')
CC_BACKENDS = ('auto', 'device', 'host')
# 8-connectivity inside each (H, W) slice of a (B, H, W) stack, none across the batch
_SLICE_8 = np.zeros((3, 3, 3), dtype=bool)
_SLICE_8[1] = True


def loss_attention_map(
    feats: torch.Tensor,
    grads: torch.Tensor,
    size: Optional[Tuple[int, int]] = None,
    norm: str = 'original',
    eps: float = 1e-12,
) -> torch.Tensor:
    """Loss Attention Map, Grad-CAM style.

    ``w = mean_hw(dL/dA)``, ``LAM = mean_c(w * A)``, per-sample normalisation on the
    (h, w) map, then bilinear upsampling (``align_corners=False``) to ``size``. ``max`` and
    ``min`` below are per sample, over the (h, w) map:

    * ``norm='original'`` (default): ``LAM / max``, the official GraSS code's normalisation,
      with which its TA = 0.5 was tuned. No ReLU and no clamping: a map whose max is < 0 is
      divided by a negative number, so its signs flip and its least attended (most negative)
      place becomes the maximum, hence the DAR. The degenerate max == 0 (where the original
      divides by zero and gets NaN / -inf, which leave its thresholded mask empty, i.e. the
      whole view) becomes all zeros here: finite, constant, the same uncropped view.
    * ``norm='relu'`` (Grad-CAM): ``relu(LAM) / max(relu(LAM))``, in [0, 1]; a map with no
      positive value becomes all zeros, i.e. constant, so its view is left uncropped. The ReLU
      raises the effective threshold wherever the map has negative values (smaller DARs).
    * ``norm='minmax'``: ``(LAM - min) / (max - min)``, in [0, 1]; the ordering of the raw map
      is kept whatever its sign; a constant map becomes all zeros.

    Args:
        feats (Tensor): A, shape (B, C, h, w).
        grads (Tensor): dL/dA, shape (B, C, h, w).
        size (tuple[int, int], optional): (H, W) to upsample to. None keeps (h, w).
        norm (str): 'original' (default), 'relu' or 'minmax'.

    Returns:
        Tensor: LAM, shape (B, H, W), dtype float32; for 'original' <= 1 when max > 0, all 0
        when max == 0, >= 1 when max < 0; in [0, 1] for 'relu' and 'minmax'.
    """
    if norm not in LAM_NORMS:
        raise ValueError(f'LAM norm must be one of {LAM_NORMS}, got norm={norm!r}')
    if feats.shape != grads.shape or feats.dim() != 4:
        raise ValueError(
            f'feats and grads must both be (B, C, h, w), got {tuple(feats.shape)} and {tuple(grads.shape)}'
        )
    feats, grads = feats.float(), grads.float()
    weights = grads.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
    lam = (weights * feats).mean(dim=1)  # (B, h, w)
    flat = lam.flatten(1)
    if norm == 'relu':
        flat = flat.clamp(min=0)
        flat = flat / flat.amax(dim=1, keepdim=True).clamp(min=eps)
    elif norm == 'original':
        hi = flat.amax(dim=1, keepdim=True)
        zero = hi == 0
        flat = torch.where(zero, 0.0, flat / torch.where(zero, 1.0, hi))
    else:
        lo = flat.amin(dim=1, keepdim=True)
        hi = flat.amax(dim=1, keepdim=True)
        flat = (flat - lo) / (hi - lo).clamp(min=eps)
    lam = flat.view_as(lam)
    if size is not None and tuple(size) != tuple(lam.shape[-2:]):
        lam = F.interpolate(lam[:, None], size=tuple(size), mode='bilinear', align_corners=False)[:, 0]
    return lam


def connected_components(mask: torch.Tensor, num_iters: Optional[int] = None) -> torch.Tensor:
    """8-connected component labels of a batch of binary masks.

    Hook-and-compress label propagation (Shiloach-Vishkin style) on a parent map: every
    foreground pixel starts as its own parent (its flat index); each round (1) takes the
    3x3 max parent over foreground neighbours (max pooling), (2) hooks it onto the pixel's
    current root with a ``scatter_reduce(amax)``, (3) compresses paths by pointer jumping.
    Parents only grow and stay inside their component; at the fixed point every component is
    labelled by its largest flat index + 1, background by 0. Rounds are fixed (no host sync);
    the default ``ceil(log2(H * W)) + 4`` reaches the fixed point on the blob-like regions of
    a thresholded LAM; pass a larger ``num_iters`` for long, winding shapes (a component
    whose geodesic diameter is d is always exact after d rounds).

    Args:
        mask (Tensor): bool, shape (B, H, W).
        num_iters (int, optional): propagation rounds.

    Returns:
        Tensor: int64 labels, shape (B, H, W).
    """
    if mask.dim() != 3:
        raise ValueError(f'mask must be (B, H, W), got {tuple(mask.shape)}')
    B, H, W = mask.shape
    if num_iters is None:
        num_iters = max(1, (H * W - 1).bit_length()) + 4
    fg = mask.bool().flatten(1)  # (B, HW)
    idx = torch.arange(H * W, device=mask.device).expand(B, H * W)
    # parent index, -1 on background (float32 is exact up to 2**24 pixels)
    parent = torch.where(fg, idx, -1)
    for _ in range(num_iters):
        nbr = F.max_pool2d(parent.view(B, 1, H, W).float(), 3, stride=1, padding=1).view(B, -1).long()
        nbr = torch.where(fg, nbr, -1)
        # hook: root of p takes the largest parent seen around p
        target = parent.clamp(min=0)
        parent = parent.scatter_reduce(1, target, nbr, reduce='amax')
        parent = torch.where(fg, parent, -1)
        for _ in range(2):  # compress
            parent = torch.where(fg, parent.gather(1, parent.clamp(min=0)), -1)
    return (parent + 1).view(B, H, W)


def connected_components_host(mask: torch.Tensor) -> torch.Tensor:
    """8-connected component labels of a batch of binary CPU masks, by ``scipy.ndimage.label``.

    One scipy call labels the whole batch (a 3x3x3 structure whose only non-zero plane is the
    middle one: 8-connectivity inside each slice, none across slices). Exact for any shape.
    The partition equals :func:`connected_components` at its fixed point; the label values
    differ (consecutive integers, unique over the batch; background 0).

    Args:
        mask (Tensor): bool, shape (B, H, W), on the CPU.

    Returns:
        Tensor: int32 labels, shape (B, H, W).
    """
    if mask.dim() != 3:
        raise ValueError(f'mask must be (B, H, W), got {tuple(mask.shape)}')
    if mask.device.type != 'cpu':
        raise ValueError(f'connected_components_host labels CPU tensors, got device={mask.device}')
    labels, _ = ndimage.label(mask.bool().numpy(), structure=_SLICE_8)
    return torch.from_numpy(labels)


def dar_boxes(
    lam: torch.Tensor, threshold: float = 0.5, num_iters: Optional[int] = None, backend: str = 'auto'
) -> torch.Tensor:
    """Discrimination Attention Region boxes.

    Mask ``LAM > min + threshold * (max - min)``, 8-connected components, keep the component
    that holds the (first, in raster order) LAM maximum and return its bounding box. A
    constant LAM has no region: its box is the whole map.

    Args:
        lam (Tensor): shape (B, H, W).
        threshold (float): TA in [0, 1).
        num_iters (int, optional): propagation rounds of the 'device' backend, see
            :func:`connected_components`; the 'host' backend is exact and ignores it.
        backend (str): labelling: 'device' (:func:`connected_components`, any device),
            'host' (:func:`connected_components_host`, CPU tensors only) or 'auto' (default:
            'host' for CPU tensors, 'device' otherwise).

    Returns:
        Tensor: int64 boxes (x0, y0, x1, y1), inclusive pixel bounds, shape (B, 4).
    """
    if not 0 <= threshold < 1:
        raise ValueError(f'DAR threshold TA must lie in [0, 1), got threshold={threshold}')
    if backend not in CC_BACKENDS:
        raise ValueError(f'DAR backend must be one of {CC_BACKENDS}, got backend={backend!r}')
    if lam.dim() != 3:
        raise ValueError(f'LAM must be (B, H, W), got {tuple(lam.shape)}')
    if backend == 'auto':
        backend = 'host' if lam.device.type == 'cpu' else 'device'
    B, H, W = lam.shape
    flat = lam.flatten(1)
    lo = flat.amin(dim=1, keepdim=True)
    hi = flat.amax(dim=1, keepdim=True)
    mask = (flat > lo + threshold * (hi - lo)).view(B, H, W)
    if backend == 'host':
        labels = connected_components_host(mask)
    else:
        labels = connected_components(mask, num_iters)
    seed = flat.argmax(dim=1, keepdim=True)  # (B, 1)
    seed_label = labels.flatten(1).gather(1, seed)  # (B, 1); 0 when LAM is constant
    region = (labels == seed_label.view(B, 1, 1)) & mask  # (B, H, W)
    has_region = region.flatten(1).any(dim=1)
    rows, cols = region.any(dim=2), region.any(dim=1)  # (B, H), (B, W)
    ar_h = torch.arange(H, device=lam.device)
    ar_w = torch.arange(W, device=lam.device)
    y0 = torch.where(rows, ar_h, H).amin(dim=1)
    y1 = torch.where(rows, ar_h, -1).amax(dim=1)
    x0 = torch.where(cols, ar_w, W).amin(dim=1)
    x1 = torch.where(cols, ar_w, -1).amax(dim=1)
    # a constant LAM has no region: the whole map (Python scalars, no host-to-device copy)
    corners = ((x0, 0), (y0, 0), (x1, W - 1), (y1, H - 1))
    return torch.stack([torch.where(has_region, v, full) for v, full in corners], dim=1)


def random_box_positions(boxes: torch.Tensor, size: Tuple[int, int], generator=None) -> torch.Tensor:
    """The same boxes at uniformly random positions: the random-box control of GraSS.

    Each box keeps its height and width; its top-left corner is drawn uniformly among the
    positions where it fits in the (H, W) view, independently per box. Fed with the DAR boxes
    of a batch, the control crops exactly as many boxes of exactly the DARs' sizes, only not
    where the gradient points.

    Args:
        boxes (Tensor): int (x0, y0, x1, y1) inclusive, shape (B, 4), inside the view.
        size (tuple[int, int]): (H, W) of the view.
        generator (torch.Generator, optional): source of the random positions (on the boxes'
            device); None uses the global generator.

    Returns:
        Tensor: int64 boxes (x0, y0, x1, y1), shape (B, 4), same widths and heights.
    """
    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise ValueError(f'boxes must be (B, 4), got {tuple(boxes.shape)}')
    H, W = size
    x0, y0, x1, y1 = boxes.long().unbind(1)
    w, h = x1 - x0 + 1, y1 - y0 + 1  # (B,)
    u = torch.rand(boxes.size(0), 2, device=boxes.device, generator=generator)
    # floor(u * n) lies in [0, n - 1] for u in [0, 1); the minimum guards u rounding up to 1
    nx = torch.minimum((u[:, 0] * (W - w + 1)).floor().long(), W - w)
    ny = torch.minimum((u[:, 1] * (H - h + 1)).floor().long(), H - h)
    return torch.stack([nx, ny, nx + w - 1, ny + h - 1], dim=1)


def nt_xent_index(num_images: int, device=None) -> torch.Tensor:
    """Column index that turns SimCLR's similarity matrix into its NT-Xent logits.

    For the (2N, 2N) similarity ``s`` of interleaved views (the two views of image ``k`` at
    rows ``2k`` and ``2k + 1``), ``s.gather(1, index)`` is the (2N, 2N - 1) logit matrix of
    mmpretrain's :class:`~mmpretrain.models.SimCLR`: column 0 the positive (the other view of
    the same image), then the 2N - 2 negatives in ascending column order. Static shapes, built
    on ``device`` without any host-device copy (no ``masked_select``), so a caller builds it
    once per (N, device) and its loss has no data-dependent shape.

    Args:
        num_images (int): N (the views are 2N).
        device (torch.device, optional): where to build it.

    Returns:
        Tensor: int64, shape (2N, 2N - 1).
    """
    n2 = 2 * num_images
    rows = torch.arange(n2, device=device)
    partner = rows.bitwise_xor(1)  # 2k <-> 2k + 1
    cols = rows.expand(n2, n2)
    keep = (cols != rows[:, None]) & (cols != partner[:, None])
    # ascending negatives first, the two dropped columns pushed past the end by the sort key
    negatives = torch.where(keep, cols, cols + n2).sort(dim=1).values[:, : n2 - 2]
    return torch.cat([partner[:, None], negatives], dim=1)


def crop_and_resize(
    imgs: torch.Tensor, boxes: torch.Tensor, size: Optional[Tuple[int, int]] = None, mode: str = 'nearest'
) -> torch.Tensor:
    """Cut one box per image and resize it to ``size``.

    ``nearest`` reproduces ``F.interpolate(img[..., y0:y1+1, x0:x1+1], size, mode='nearest')``
    (source index ``floor(dst * crop / size)``), the original's choice. ``bilinear`` matches
    ``F.interpolate(..., mode='bilinear', align_corners=False)`` on the crop.

    Args:
        imgs (Tensor): shape (B, C, H, W).
        boxes (Tensor): int (x0, y0, x1, y1) inclusive, shape (B, 4).
        size (tuple[int, int], optional): output (h, w); defaults to (H, W).
        mode (str): 'nearest' or 'bilinear'.

    Returns:
        Tensor: shape (B, C, h, w).
    """
    if mode not in ('nearest', 'bilinear'):
        raise ValueError(f"crop mode must be 'nearest' or 'bilinear', got mode={mode!r}")
    B, C, H, W = imgs.shape
    oh, ow = size if size is not None else (H, W)
    boxes = boxes.to(imgs.device)
    x0, y0, x1, y1 = boxes.unbind(1)
    ch = (y1 - y0 + 1).to(torch.float32)[:, None]  # (B, 1)
    cw = (x1 - x0 + 1).to(torch.float32)[:, None]
    dy = torch.arange(oh, device=imgs.device, dtype=torch.float32)[None]
    dx = torch.arange(ow, device=imgs.device, dtype=torch.float32)[None]
    if mode == 'nearest':
        sy = (y0[:, None] + (dy * ch / oh).floor().long()).clamp(max=H - 1)  # (B, oh)
        sx = (x0[:, None] + (dx * cw / ow).floor().long()).clamp(max=W - 1)  # (B, ow)
        index = (sy[:, :, None] * W + sx[:, None, :]).view(B, 1, oh * ow)
        out = imgs.flatten(2).gather(2, index.expand(B, C, oh * ow))
        return out.view(B, C, oh, ow)
    # bilinear, align_corners=False on the crop, clamped at the crop border
    sy = ((dy + 0.5) * ch / oh - 0.5).clamp(min=0) + y0[:, None]
    sx = ((dx + 0.5) * cw / ow - 0.5).clamp(min=0) + x0[:, None]
    sy = torch.minimum(sy, y1[:, None].float())
    sx = torch.minimum(sx, x1[:, None].float())
    gy = (2 * sy + 1) / H - 1  # normalised, align_corners=False
    gx = (2 * sx + 1) / W - 1
    grid = torch.stack([gx[:, None, :].expand(B, oh, ow), gy[:, :, None].expand(B, oh, ow)], dim=-1)
    return F.grid_sample(imgs, grid.to(imgs.dtype), mode='bilinear', padding_mode='border', align_corners=False)
