"""Argument checks shared by the segmentation contrast heads (:class:`PatchContrastHead`, :class:`PixelAnchorHead`).

Errors are ``ValueError`` with one line naming the config key (``<head key>.<argument>``), so that a bad config
fails at build time with the key to fix.
"""

from typing import List, Optional, Sequence, Tuple, Union

DEFAULT_IGNORE_INDEX = 255  # mmseg's ignore label, used when neither the head nor its segmentor sets one


def check_head_args(
    key: str,
    in_index: Union[int, Sequence[int]],
    in_channels: Union[int, Sequence[int]],
    channels: int,
    temperature: float,
    ignore_index: Optional[int],
    loss_name: str,
    *,
    channels_role: str,
    allow_no_stage: bool = False,
) -> Tuple[List[int], List[int], int]:
    """Check the arguments both heads take alike and normalise them.

    Args:
        key (str): the head's config key in the segmentor (``'patch_contrast_head'``), prefixes the errors.
        in_index, in_channels (int | list[int]): encoder stages and their widths (an int is one stage);
            the same length, non-empty unless ``allow_no_stage``.
        channels (int): output width of the head's embedding / projection, a positive int.
        temperature (float): contrast temperature, > 0.
        ignore_index (int | None): ignored label, an int or None.
        loss_name (str): key in the loss dict, must start with ``loss_``.
        channels_role (str): what ``channels`` is, for its error (``'projection dim'``).
        allow_no_stage (bool): an empty ``in_index`` is allowed (a head whose only level is the decoder's).

    Returns:
        tuple: ``in_index`` (list[int]), ``in_channels`` (list[int]) and ``ignore_index`` (int; None becomes
        :data:`DEFAULT_IGNORE_INDEX`).
    """
    if isinstance(in_index, int):
        in_index = [in_index]
    if isinstance(in_channels, int):
        in_channels = [in_channels]
    in_index, in_channels = list(in_index), list(in_channels)
    if allow_no_stage and len(in_index) != len(in_channels):
        raise ValueError(f'{key}.in_index={in_index} and {key}.in_channels={in_channels} must have the same length')
    if not allow_no_stage and (len(in_index) == 0 or len(in_index) != len(in_channels)):
        raise ValueError(
            f'{key}.in_index={in_index} and {key}.in_channels={in_channels} must be non-empty lists of the same length'
        )
    if not isinstance(channels, int) or channels <= 0:
        raise ValueError(f'{key}.channels ({channels_role}) must be a positive int, got {channels!r}')
    if temperature <= 0:
        raise ValueError(f'{key}.temperature must be > 0, got {temperature!r}')
    if ignore_index is not None and not isinstance(ignore_index, int):
        raise ValueError(f'{key}.ignore_index must be an int or None, got {ignore_index!r}')
    if not loss_name.startswith('loss_'):
        raise ValueError(f"{key}.loss_name must start with 'loss_', got {loss_name!r}")
    return in_index, in_channels, DEFAULT_IGNORE_INDEX if ignore_index is None else ignore_index


def check_num_classes(key: str, num_classes: Optional[int]) -> int:
    """``num_classes`` of a head at loss time (set by the segmentor from its decode head when None)."""
    if num_classes is None:
        raise ValueError(f'{key}.num_classes is not set')
    return num_classes
