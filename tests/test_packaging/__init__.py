"""grass_mm as an OpenMMLab package: ``grass_mm::`` configs, ``mim train/test grass_mm``, the wheel."""
