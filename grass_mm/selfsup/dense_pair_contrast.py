"""Pixel-pair contrast: dense InfoNCE using the identity correspondence of co-registered pairs."""

from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from .dense_pair_functional import dense_pair_info_nce, sample_positions


@MODELS.register_module()
class PixelPairContrast(BaseSelfSupervisor):
    """Dense contrastive pretraining on co-registered positive pairs.

    The two views come from :class:`~grass_mm.selfsup.transforms.PairedViews` with
    ``shared_geometry=True`` (view 1 from the image, view 2 from its partner, same crop and
    flip), so grid position ``l`` of view 1 matches position ``l`` of view 2. Both views go
    through the same backbone and a DenseCL-style neck
    (:class:`mmpretrain.models.necks.DenseCLNeck`: global fc-relu-fc and dense
    conv-relu-conv); the loss is

    ``(1 - global_weight) * dense_pair_info_nce(grid1, grid2)
    + global_weight * dense_pair_info_nce(global1, global2)``

    with in-batch negatives (no queue, no momentum encoder), symmetric in the two views.

    Args:
        backbone (dict): backbone config, e.g. mmpretrain ``ResNet`` (``out_indices=(3,)``).
        neck (dict): ``DenseCLNeck`` config (``in_channels`` = backbone channels).
        temperature (float): InfoNCE temperature. Default 0.2.
        global_weight (float): weight of the global (image-level) term in [0, 1]. Default 0:
            the neck's global MLP (``neck.mlp``) is not built then (an ``nn.Identity`` takes
            its place): its output is unused, and a parameter without gradient makes DDP with
            ``find_unused_parameters=False`` raise at the second iteration.
        num_samples (int, optional): positions sampled per image for the dense term (the
            logit matrix is (N*S)x(N*S)); None keeps all. Default None.
        data_preprocessor, init_cfg, pretrained: see :class:`BaseSelfSupervisor`.

    Shapes: inputs are two (N, 3, H, W) views; grid embeddings (N, D, h*w).
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: Optional[dict] = None,
        temperature: float = 0.2,
        global_weight: float = 0.0,
        num_samples: Optional[int] = None,
        pretrained: Optional[str] = None,
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[Union[List[dict], dict]] = None,
    ) -> None:
        if not 0.0 <= float(global_weight) <= 1.0:
            raise ValueError(f'PixelPairContrast: "global_weight" must be in [0, 1], got {global_weight!r}')
        if not float(temperature) > 0:
            raise ValueError(f'PixelPairContrast: "temperature" must be > 0, got {temperature!r}')
        if num_samples is not None and int(num_samples) < 1:
            raise ValueError(f'PixelPairContrast: "num_samples" must be >= 1 or None, got {num_samples!r}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.temperature = float(temperature)
        self.global_weight = float(global_weight)
        if self.global_weight == 0 and isinstance(getattr(self.neck, 'mlp', None), nn.Module):
            self.neck.mlp = nn.Identity()  # the global branch is unused: no parameter left without gradient
        self.num_samples = num_samples

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        """Compute the dense (and optional global) pair loss.

        Args:
            inputs (list[torch.Tensor]): two views, each (N, 3, H, W).
            data_samples (list[DataSample]): unused.

        Returns:
            dict[str, torch.Tensor]: ``loss_dense`` (and ``loss_global`` when weighted).
        """
        if not isinstance(inputs, list) or len(inputs) != 2:
            raise ValueError('PixelPairContrast expects a list of 2 views (PairedViews output)')
        n = inputs[0].shape[0]
        feats = self.backbone(torch.cat(inputs, dim=0))  # one pass: BN sees both views
        glob, grid, _ = self.neck(feats)  # (2N, D), (2N, D, h*w), _
        index = sample_positions(grid.shape[2], self.num_samples, grid.device)
        losses = dict()
        dense = dense_pair_info_nce(grid[:n], grid[n:], self.temperature, index)
        losses['loss_dense'] = dense * (1.0 - self.global_weight)
        if self.global_weight > 0:
            g = glob.unsqueeze(-1)  # (2N, D, 1)
            losses['loss_global'] = self.global_weight * dense_pair_info_nce(g[:n], g[n:], self.temperature)
        return losses
