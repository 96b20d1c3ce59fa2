"""Paired-view transforms (mmpretrain scope): positive pairs from two distinct images."""

from .paired_loading import LoadImagePair, check_pair_compatible
from .paired_views import PairedViews, replay_randomness

__all__ = ['LoadImagePair', 'PairedViews', 'check_pair_compatible', 'replay_randomness']
