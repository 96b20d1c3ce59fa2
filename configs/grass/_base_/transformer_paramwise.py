# LARS paramwise keys for the transformer / ConvNeXt backbones of GraSS, added by the leaf configs to those of
# ../../_base_/schedules/selfsup_lars_coslr_350e.py (BN, biases): no weight decay and no LARS adaptation for their
# LayerNorms (`norm*`, ViT's `ln*`), position embeddings, class token, relative position bias tables and ConvNeXt's
# layer scale (`gamma`), as for BN. The schedule itself is SimCLR-R50's, untuned for these backbones.
transformer_custom_keys = {
    'norm': dict(decay_mult=0, lars_exclude=True),
    '.ln': dict(decay_mult=0, lars_exclude=True),
    'pos_embed': dict(decay_mult=0, lars_exclude=True),
    'cls_token': dict(decay_mult=0, lars_exclude=True),
    'relative_position_bias_table': dict(decay_mult=0, lars_exclude=True),
    'gamma': dict(decay_mult=0, lars_exclude=True),
}
