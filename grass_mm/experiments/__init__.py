"""The experiment runner as a library (no registered modules); ``tools/experiments/sweep.py``,
``tools/experiments/noisy_pairs.py`` and ``tools/quickstart.py`` only parse their flags into settings and call
``run``.

=====================  ==========================================================================
``settings``           the settings dataclasses (sweep, quickstart, noisy-pair study), their checks and
                       the work-dir marker they round-trip through
``cli``                the tools' flags -> settings
``paths``              the configs, demo data and entry points taken from the package (one place)
``data``               the dataset keys of a study, Dubai tile folds, the VTS set
``configs``            the sweep's pretraining and fine-tuning configs, backbone checks
``steps``              tool commands run in subprocesses, recorded; what a finished run left
``work_dir``           settings markers, resuming, reusing pretraining, the quickstart's owned folder
``sweep``              the sweep and its cross-validation (``run``)
``quickstart``         the quickstart (``run``)
``noisy_pairs``        the noisy-pair study: its configs and ``run``
=====================  ==========================================================================

Example:
    >>> from grass_mm.experiments import SweepSettings, sweep
    >>> sweep.run(SweepSettings(methods=['random-init', 'GraSS'], seeds=[0], work_dir='work_dirs/s'))  # doctest: +SKIP
"""

from .settings import (
    NoisyPairsSettings,
    QuickstartSettings,
    SettingsError,
    StudySettings,
    SweepError,
    SweepSettings,
)

__all__ = [
    'NoisyPairsSettings',
    'QuickstartSettings',
    'SettingsError',
    'StudySettings',
    'SweepError',
    'SweepSettings',
]
