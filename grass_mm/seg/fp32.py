"""Float32 math under mixed precision for the contrastive losses."""

import functools

import torch
from torch import Tensor


def float32_math(fn):
    """Run ``fn`` with autocast switched off and its floating tensor arguments cast to float32.

    Under ``torch.autocast`` (fp16 on CUDA, fp16/bf16 on CPU) ``einsum`` / ``matmul`` return half
    precision even for float32 inputs; similarity logits divided by a temperature of 0.1, the
    masked "minus infinity" fill and per-class sums over thousands of pixels need float32. Gradients
    flow back to the half-precision inputs through the casts.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        first = next((a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)), None)
        device = first.device.type if first is not None else 'cpu'

        def cast(a):
            return a.float() if isinstance(a, Tensor) and a.is_floating_point() else a

        with torch.autocast(device_type=device, enabled=False):
            return fn(*map(cast, args), **{k: cast(v) for k, v in kwargs.items()})

    return wrapper
