"""Runtime bases: per-rank seeds, mmseg's cuDNN benchmark for segmentation, and deterministic=True accepted
(DeterministicWarnOnlyHook: deterministic kernels where they exist, a warning instead of an error elsewhere).

What is deterministic where: docs/gpu_and_determinism.md.
"""

import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from test_selfsup._grass_helpers import _GraSSRandomViews  # noqa: F401  (registers the test dataset)

from ._tools import REPO_ROOT

SEG_RUNTIME = osp.join(REPO_ROOT, 'configs/_base_/default_runtime_seg.py')
SELFSUP_RUNTIME = osp.join(REPO_ROOT, 'configs/_base_/default_runtime_selfsup.py')


def test_runtime_bases():
    seg, selfsup = Config.fromfile(SEG_RUNTIME), Config.fromfile(SELFSUP_RUNTIME)
    for cfg in (seg, selfsup):
        assert cfg.randomness.seed == 0 and cfg.randomness.diff_rank_seed is True
        assert not cfg.randomness.get('deterministic', False)
        assert cfg.custom_hooks == [dict(type='PlainCheckpointHook'), dict(type='DeterministicWarnOnlyHook')]
    assert seg.env_cfg.cudnn_benchmark is True  # mmseg's default: fixed-shape crops
    assert selfsup.env_cfg.cudnn_benchmark is False  # mmpretrain's default


def _deterministic_grass_cfg(work_dir):
    """A tiny GraSS run (1 warm-up + 1 GS iteration) on the self-supervised runtime base, deterministic=True."""
    cfg = Config.fromfile(SELFSUP_RUNTIME)
    cfg.merge_from_dict(
        dict(
            model=dict(
                type='GraSS',
                backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, out_indices=(3,)),
                neck=dict(type='NonLinearNeck', in_channels=64, hid_channels=32, out_channels=16, with_avg_pool=True),
                head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
                data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0.0] * 3, std=[1.0] * 3),
            ),
            work_dir=str(work_dir),
            train_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'),
                dataset=dict(type='_GraSSRandomViews'),
            ),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=2),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            custom_hooks=[*cfg.custom_hooks, dict(type='GraSSWarmupHook', warmup_iters=1)],
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=100)),
            randomness=dict(deterministic=True),
            log_level='WARNING',
        )
    )
    return cfg


@pytest.fixture
def restore_determinism_flags():
    algorithms = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(algorithms[0], warn_only=algorithms[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


def _put():
    """A CPU op without a deterministic implementation (``put_`` without ``accumulate``)."""
    return torch.zeros(4).put_(torch.tensor([0, 0]), torch.tensor([1.0, 2.0]))


def test_deterministic_warn_only_hook(restore_determinism_flags):
    """What mmengine's deterministic=True sets raises at an op without a deterministic implementation; after the
    hook's before_run the op warns instead, deterministic algorithms still on. Without deterministic=True the hook
    changes nothing."""
    from mmengine.logging import MMLogger

    from grass_mm.engine.hooks import DeterministicWarnOnlyHook

    runner = SimpleNamespace(logger=MMLogger.get_instance('test_deterministic_warn_only_hook'))
    hook = DeterministicWarnOnlyHook()
    torch.use_deterministic_algorithms(True)  # what mmengine's set_random_seed(deterministic=True) calls
    with pytest.raises(RuntimeError, match='put_ does not have a deterministic implementation'):
        _put()
    hook.before_run(runner)
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
    with pytest.warns(UserWarning, match='put_ does not have a deterministic implementation'):
        _put()
    torch.use_deterministic_algorithms(False)
    hook.before_run(runner)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks CPU determinism (GPU: docs/gpu_and_determinism.md)')
def test_deterministic_true_is_accepted_and_cpu_runs_are_bit_identical(tmp_path, restore_determinism_flags):
    params = []
    for run in range(2):
        runner = Runner.from_cfg(_deterministic_grass_cfg(tmp_path / f'run{run}'))
        assert torch.are_deterministic_algorithms_enabled() and runner.seed == 0  # rank 0: seed + 0
        assert not torch.is_deterministic_algorithms_warn_only_enabled()  # mmengine's setting
        runner.train()
        # the runtime base's DeterministicWarnOnlyHook switched to warn_only before the run
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        assert runner.model.gs_enabled  # the second iteration was a GS step
        params.append(torch.cat([p.detach().flatten() for p in runner.model.parameters()]))
    assert torch.equal(params[0], params[1])
