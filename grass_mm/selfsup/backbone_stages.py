"""Stage-wise forward of mmpretrain backbones, for GraSS's guidance pass.

GraSS needs a backbone in two parts: up to the output A of stage ``k`` without graph, then from
A (which requires grad) to the backbone's outputs. A :class:`StageAdapter` gives that split for one
backbone family, reusing the backbone's own submodules in the order of its ``forward``:

* ``stem(bb, x) -> state``; ``stage(bb, i, state) -> state``; ``output(bb, i, state)`` = what
  ``bb.forward`` appends for an index ``i`` in ``bb.out_indices``, ``output_modules(bb, i)`` the layers it uses
  (Swin's and ConvNeXt's ``norm{i}``);
* ``feature(bb, state) -> A`` (B, C, h, w), the map of the state after a stage, and
  ``with_feature(bb, state, A)``, the state carrying A instead (so that the graph of the stages after
  ``k`` starts at A).

Running ``stem``, every ``stage`` and the ``output`` of the out indices gives exactly ``bb.forward(x)``
(tested per family). Families (each only where its class keeps the family's own ``forward``):

============================ =========================================== =====================================
family                       stage i                                     A (its feature map)
============================ =========================================== =====================================
ResNet (ResNet, ResNetV1c/d, residual layer ``layer{i+1}``               the layer's output, stride 4*prod
ResNeXt, SEResNet, ...)                                                  (strides)
ConvNeXt                     ``downsample_layers[i]``, ``stages[i]``     the stage's output (before ``norm{i}``)
SwinTransformer              the previous stage's patch merging, then    the tokens after the blocks, as a
                             the blocks of ``stages[i]``                 (h, w) grid (before ``norm{i}``)
VisionTransformer (ViT,      transformer layer ``layers[i]`` (and the    the patch tokens as the patch grid
e.g. ViT-S/16)               final ``ln1`` after the last)               (class token left out)
============================ =========================================== =====================================
"""

from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmpretrain.models.backbones import ConvNeXt, ResNet, SwinTransformer, VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import nn


class StageAdapter:
    """Stage-wise forward of one backbone family (stateless: every method takes the backbone)."""

    family = None  # the backbone class whose ``forward`` the adapter follows

    def num_stages(self, bb: nn.Module) -> int:
        raise NotImplementedError

    def stride(self, bb: nn.Module, i: int) -> int:
        """Pixels per cell of the feature map A after stage ``i``."""
        raise NotImplementedError

    def stem(self, bb: nn.Module, x: torch.Tensor) -> Any:
        return x

    def stage(self, bb: nn.Module, i: int, state: Any) -> Any:
        raise NotImplementedError

    def output(self, bb: nn.Module, i: int, state: Any) -> torch.Tensor:
        return state

    def output_modules(self, bb: nn.Module, i: int) -> List[nn.Module]:
        """The layers with parameters that :meth:`output` applies for out index ``i`` (none by default)."""
        return []

    def feature(self, bb: nn.Module, state: Any) -> torch.Tensor:
        return state

    def with_feature(self, bb: nn.Module, state: Any, feat: torch.Tensor) -> Any:
        return feat


class ResNetStages(StageAdapter):
    family = ResNet

    def num_stages(self, bb):
        return len(bb.res_layers)

    def stride(self, bb, i):
        stride = 4
        for s in bb.strides[: i + 1]:
            stride *= s
        return stride

    def stem(self, bb, x):
        x = bb.stem(x) if bb.deep_stem else bb.relu(bb.norm1(bb.conv1(x)))
        return bb.maxpool(x)

    def stage(self, bb, i, state):
        return getattr(bb, bb.res_layers[i])(state)


class ConvNeXtStages(StageAdapter):
    family = ConvNeXt

    def num_stages(self, bb):
        return len(bb.stages)

    def stride(self, bb, i):
        return bb.downsample_layers[0][0].stride[0] * 2**i

    def stage(self, bb, i, state):
        return bb.stages[i](bb.downsample_layers[i](state))

    def output(self, bb, i, state):
        norm = getattr(bb, f'norm{i}')
        if bb.gap_before_final_norm:
            return norm(state.mean([-2, -1], keepdim=True)).flatten(1)
        return norm(state)

    def output_modules(self, bb, i):
        return [getattr(bb, f'norm{i}')]


class SwinStages(StageAdapter):
    """State: (tokens (B, h*w, C), (h, w)); the patch merging of stage i runs at the start of stage i + 1
    (``out_after_downsample=False``, the default) or at the end of stage i (True), as in ``forward``."""

    family = SwinTransformer

    def num_stages(self, bb):
        return len(bb.stages)

    def stride(self, bb, i):
        merged = i + int(bb.out_after_downsample and bb.stages[i].downsample is not None)
        return bb.patch_embed.projection.stride[0] * 2**merged

    def stem(self, bb, x):
        x, hw = bb.patch_embed(x)
        if bb.use_abs_pos_embed:
            x = x + resize_pos_embed(
                bb.absolute_pos_embed, bb.patch_resolution, hw, bb.interpolate_mode, bb.num_extra_tokens
            )
        return bb.drop_after_pos(x), hw

    def stage(self, bb, i, state):
        x, hw = state
        prev = bb.stages[i - 1].downsample if i > 0 else None
        if prev is not None and not bb.out_after_downsample:
            x, hw = prev(x, hw)
        return bb.stages[i](x, hw, do_downsample=bb.out_after_downsample)

    def output(self, bb, i, state):
        x, hw = state
        out = getattr(bb, f'norm{i}')(x)
        return out.view(-1, *hw, bb.num_features[i]).permute(0, 3, 1, 2).contiguous()

    def output_modules(self, bb, i):
        return [getattr(bb, f'norm{i}')]

    def feature(self, bb, state):
        x, (h, w) = state
        return x.transpose(1, 2).reshape(x.size(0), -1, h, w)

    def with_feature(self, bb, state, feat):
        return feat.flatten(2).transpose(1, 2), state[1]


class ViTStages(StageAdapter):
    """State: (tokens (B, extra + h*w, C), (h, w)); the stages are the transformer layers."""

    family = VisionTransformer

    def num_stages(self, bb):
        return len(bb.layers)

    def stride(self, bb, i):
        return bb.patch_embed.projection.stride[0]

    def stem(self, bb, x):
        B = x.shape[0]
        x, hw = bb.patch_embed(x)
        if bb.cls_token is not None:
            x = torch.cat((bb.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + resize_pos_embed(
            bb.pos_embed, bb.patch_resolution, hw, mode=bb.interpolate_mode, num_extra_tokens=bb.num_extra_tokens
        )
        return bb.pre_norm(bb.drop_after_pos(x)), hw

    def stage(self, bb, i, state):
        x, hw = state
        x = bb.layers[i](x)
        if i == len(bb.layers) - 1 and bb.final_norm:
            x = bb.ln1(x)
        return x, hw

    def output(self, bb, i, state):
        return bb._format_output(*state)

    def feature(self, bb, state):
        x, (h, w) = state
        return x[:, bb.num_extra_tokens :].transpose(1, 2).reshape(x.size(0), -1, h, w)

    def with_feature(self, bb, state, feat):
        x, hw = state
        return torch.cat([x[:, : bb.num_extra_tokens], feat.flatten(2).transpose(1, 2)], dim=1), hw


ADAPTERS = (ResNetStages(), ConvNeXtStages(), SwinStages(), ViTStages())


def stage_adapter(bb: nn.Module) -> StageAdapter:
    """The adapter of ``bb``'s family; refuses a backbone whose class has its own ``forward``."""
    for adapter in ADAPTERS:
        if isinstance(bb, adapter.family) and type(bb).forward is adapter.family.forward:
            return adapter
    names = ', '.join(a.family.__name__ for a in ADAPTERS)
    raise TypeError(
        f'GraSS splits the forward of mmpretrain backbones of the families {names} (subclasses that keep the '
        f"family's forward); got {type(bb).__name__}"
    )


def forward_to(
    adapter: StageAdapter, bb: nn.Module, x: torch.Tensor, stage: int, out_indices: Optional[Sequence[int]] = None
) -> Tuple[list, Any]:
    """Stem and stages 0..stage: (the outputs of out indices < stage, the state after ``stage``).

    ``out_indices`` (a subset of ``bb.out_indices``) computes only those outputs; None = all of ``bb.out_indices``.
    """
    out_indices = bb.out_indices if out_indices is None else out_indices
    state, outs = adapter.stem(bb, x), []
    for i in range(stage + 1):
        state = adapter.stage(bb, i, state)
        if i in out_indices and i < stage:
            outs.append(adapter.output(bb, i, state))
    return outs, state


def forward_from(
    adapter: StageAdapter,
    bb: nn.Module,
    outs: list,
    state: Any,
    stage: int,
    out_indices: Optional[Sequence[int]] = None,
) -> Tuple[torch.Tensor]:
    """The stages after ``stage`` from its state; returns the backbone's output tuple (of ``out_indices`` only, as
    for :func:`forward_to`)."""
    out_indices = bb.out_indices if out_indices is None else out_indices
    outs = list(outs) + ([adapter.output(bb, stage, state)] if stage in out_indices else [])
    for i in range(stage + 1, adapter.num_stages(bb)):
        state = adapter.stage(bb, i, state)
        if i in out_indices:
            outs.append(adapter.output(bb, i, state))
    return tuple(outs)
