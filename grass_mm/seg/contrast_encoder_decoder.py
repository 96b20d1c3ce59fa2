"""EncoderDecoder that feeds the decode head's output to training-only contrastive components.

The patch-contrast head ranks patches by the decode head's confidence and the pixel-anchor loss needs the
prediction (BANE) and the decoder's fused feature, so neither can be a plain ``auxiliary_head`` working on
backbone features alone. :class:`ContrastEncoderDecoder` is mmseg's ``EncoderDecoder`` with two optional
config keys, used only in :meth:`loss`; ``predict``/``_forward``/``encode_decode`` are inherited untouched,
so test-mode inference runs exactly the plain model's modules.

Config::

    model = dict(
        type='ContrastEncoderDecoder',
        patch_contrast_head=dict(type='PatchContrastHead', in_index=[2, 3], in_channels=[1024, 2048]),
        pixel_anchor_head=dict(type='PixelAnchorHead', in_index=[1, 2, 3],
                               in_channels=[512, 1024, 2048], decoder_channels=512))

``num_classes`` and ``ignore_index`` of both components and the pixel-anchor embedding heads' ``norm_cfg``
default to the decode head's (so ``decode_head.ignore_index=5`` also drops class 5 from the contrast, and
``SyncBN`` in the decode head reaches the embedding heads). The components need one softmax logit per class:
a binary sigmoid decode head (``out_channels=1``) is refused at build time.

Deployment: ``state_dict`` keys of the components start with ``patch_contrast_head.`` /
``pixel_anchor_head.``; :func:`grass_mm.seg.export.plain_seg_checkpoint` (``tools/model_converters/
export_plain_seg.py``) drops them and writes a checkpoint that loads strictly into the plain
``EncoderDecoder`` config.
"""

from typing import Optional

from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList, add_prefix
from torch import Tensor


def _num_backbone_outputs(backbone) -> Optional[int]:
    """Number of feature maps the backbone returns (None when it cannot be told)."""
    out_indices = getattr(backbone, 'out_indices', None)
    if out_indices is None:
        return None
    if isinstance(out_indices, int):
        return 1
    return len(out_indices)


@MODELS.register_module()
class ContrastEncoderDecoder(EncoderDecoder):
    """mmseg ``EncoderDecoder`` + optional ``patch_contrast_head`` and ``pixel_anchor_head`` (training only).

    Args:
        patch_contrast_head (dict | None): config of a :class:`PatchContrastHead`.
        pixel_anchor_head (dict | None): config of a :class:`PixelAnchorHead`.
        **kwargs: :class:`mmseg.models.EncoderDecoder` arguments.
    """

    def __init__(
        self,
        backbone: ConfigType,
        decode_head: ConfigType,
        patch_contrast_head: OptConfigType = None,
        pixel_anchor_head: OptConfigType = None,
        **kwargs,
    ):
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        n_out = _num_backbone_outputs(self.neck) if self.with_neck else None
        if n_out is None and not self.with_neck:
            n_out = _num_backbone_outputs(self.backbone)
        self.patch_contrast_head = self._build_component(patch_contrast_head, 'patch_contrast_head', n_out)
        self.pixel_anchor_head = self._build_component(pixel_anchor_head, 'pixel_anchor_head', n_out)

    def _build_component(self, cfg, key: str, n_out: Optional[int]):
        if cfg is None:
            return None
        cfg = ConfigDict(cfg) if not isinstance(cfg, ConfigDict) else cfg.copy()
        in_index = cfg.get('in_index', [])
        in_index = [in_index] if isinstance(in_index, int) else list(in_index)
        for i in in_index:
            if not isinstance(i, int) or i < 0 or (n_out is not None and i >= n_out):
                raise ValueError(
                    f'{key}.in_index contains {i!r}, but the backbone returns {n_out} feature '
                    f'maps (indices 0..{(n_out or 0) - 1})'
                )
        head = self.decode_head
        if self.out_channels != self.num_classes:
            raise ValueError(
                f'{key} needs one softmax logit per class, but decode_head.out_channels={self.out_channels} '
                f'for num_classes={self.num_classes} (a binary sigmoid head); set decode_head.out_channels='
                f'{self.num_classes} with use_sigmoid=False, or drop {key}'
            )
        if cfg.get('num_classes') is None:
            cfg.num_classes = self.num_classes
        elif cfg.num_classes != self.num_classes:
            raise ValueError(
                f"{key}.num_classes={cfg.num_classes} differs from the decode head's num_classes={self.num_classes}"
            )
        if cfg.get('ignore_index') is None:
            cfg.ignore_index = int(getattr(head, 'ignore_index', 255))
        if key == 'pixel_anchor_head' and cfg.get('norm_cfg') is None and getattr(head, 'norm_cfg', None):
            cfg.norm_cfg = dict(head.norm_cfg)
        if (
            key == 'pixel_anchor_head'
            and cfg.get('decoder_channels')
            and not hasattr(self.decode_head, '_forward_feature')
        ):
            raise ValueError(
                f'{key}.decoder_channels is set, but {type(self.decode_head).__name__} has no '
                '_forward_feature() to expose its fused feature'
            )
        return MODELS.build(cfg)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Decode (+ auxiliary) losses, plus the contrastive components' losses.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): with ``gt_sem_seg`` (1, H, W).

        Returns:
            dict[str, Tensor]: ``decode.*``, ``aux.*``, ``patch_contrast.*``, ``pixel_anchor.*`` losses.
        """
        if self.patch_contrast_head is None and self.pixel_anchor_head is None:
            return super().loss(inputs, data_samples)
        x = self.extract_feat(inputs)
        head = self.decode_head
        need_dec_feat = self.pixel_anchor_head is not None and self.pixel_anchor_head.use_decoder
        dec_feat = None
        if need_dec_feat:
            dec_feat = head._forward_feature(x)
            seg_logits = head.cls_seg(dec_feat)
        else:
            seg_logits = head.forward(x)
        losses = dict()
        losses.update(add_prefix(head.loss_by_feat(seg_logits, data_samples), 'decode'))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        gt = head._stack_batch_gt(data_samples)  # (B, 1, H, W)
        if self.patch_contrast_head is not None:
            losses.update(add_prefix(self.patch_contrast_head.loss(x, seg_logits.detach(), gt), 'patch_contrast'))
        if self.pixel_anchor_head is not None:
            losses.update(add_prefix(self.pixel_anchor_head.loss(x, seg_logits.detach(), gt, dec_feat), 'pixel_anchor'))
        return losses
