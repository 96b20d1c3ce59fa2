"""Plain mmseg checkpoints and configs from :class:`ContrastEncoderDecoder` runs (deployment).

The contrastive components are used in training only, but their weights are part of the training
checkpoint. These pure functions drop them so that the result loads *strictly* into the stock mmseg
``EncoderDecoder`` with the same backbone / neck / decode head / auxiliary head, and gives the same
test-mode logits (``predict`` of :class:`ContrastEncoderDecoder` runs exactly the plain model's modules).
``tools/model_converters/export_plain_seg.py`` is the command-line front end.
"""

import copy
from collections import OrderedDict
from typing import Mapping

#: state_dict prefixes of the training-only components
COMPONENT_KEYS = ('patch_contrast_head', 'pixel_anchor_head')


def plain_seg_model_cfg(model_cfg: Mapping) -> dict:
    """The stock ``EncoderDecoder`` model config of a ``ContrastEncoderDecoder`` model config.

    Args:
        model_cfg (dict): ``cfg.model`` of a training config.

    Returns:
        dict: a deep copy with ``type='EncoderDecoder'`` and the component keys removed.

    Raises:
        ValueError: the model is neither ``ContrastEncoderDecoder`` nor already ``EncoderDecoder``.
    """
    cfg = copy.deepcopy(model_cfg)
    kind = cfg.get('type')
    if kind not in ('ContrastEncoderDecoder', 'EncoderDecoder', 'mmseg.EncoderDecoder'):
        raise ValueError(f"model.type={kind!r}: expected 'ContrastEncoderDecoder' (or a plain 'EncoderDecoder')")
    cfg['type'] = 'EncoderDecoder'
    for key in COMPONENT_KEYS:
        cfg.pop(key, None)
    return cfg


def plain_seg_state_dict(state_dict: Mapping) -> 'OrderedDict':
    """``state_dict`` without the components' entries (``patch_contrast_head.*``, ``pixel_anchor_head.*``)."""
    prefixes = tuple(k + '.' for k in COMPONENT_KEYS)
    return OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith(prefixes))


def plain_seg_checkpoint(checkpoint: Mapping) -> dict:
    """A plain-data mmseg checkpoint (``state_dict`` + ``meta``) for the stock ``EncoderDecoder``.

    Args:
        checkpoint (dict): a training checkpoint (``state_dict``, ``meta``, optimizer, message hub, ...)
            or a bare state dict.

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}``; optimizer, scheduler and message-hub entries are
        dropped, ``meta`` (dataset classes and palette, used by mmseg's ``init_model``) is kept, with
        ``meta['exported_from'] = 'ContrastEncoderDecoder'`` and the dropped component keys listed.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, Mapping) else checkpoint
    if not isinstance(state, Mapping) or not state:
        raise ValueError('checkpoint holds no state_dict')
    plain = plain_seg_state_dict(state)
    meta = dict(checkpoint.get('meta') or {}) if 'state_dict' in checkpoint else {}
    meta['exported_from'] = 'ContrastEncoderDecoder'
    meta['dropped_keys'] = sorted({k.split('.', 1)[0] for k in state if k not in plain})
    return dict(state_dict=plain, meta=meta)
