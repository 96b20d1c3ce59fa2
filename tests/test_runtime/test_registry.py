"""Every module grass_mm registers builds from a config dict in its registry and scope.

The set of registered names is read from the registries themselves, so a module added later
without an entry here makes this test fail (add a config for it below).
"""

import pytest
import torch
import torch.distributed as dist
from mmengine.registry import DefaultScope, Registry

import grass_mm  # noqa: F401

R18 = dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'))
NECK = dict(type='NonLinearNeck', in_channels=512, hid_channels=64, out_channels=32, num_layers=2, with_avg_pool=True)
TINY_SEG = dict(
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1], size=(64, 64)),
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'), init_cfg=None),
    decode_head=dict(type='FCNHead', in_channels=512, in_index=3, channels=16, num_convs=1, num_classes=3),
)


def _configs(tmp_path):
    """(registry scope, registry name) -> {type name: config dict}."""
    empty = str(tmp_path)
    return {
        'PlainCheckpointHook': dict(type='PlainCheckpointHook'),
        'GraSSWarmupHook': dict(type='GraSSWarmupHook', warmup_iters=3),
        'CPUDistributedDataParallel': dict(type='CPUDistributedDataParallel', module=torch.nn.Linear(2, 2)),
        'ContrastEncoderDecoder': dict(
            type='ContrastEncoderDecoder',
            patch_contrast_head=dict(type='PatchContrastHead', in_index=[2, 3], in_channels=[256, 512], channels=16),
            pixel_anchor_head=dict(
                type='PixelAnchorHead', in_index=[2], in_channels=[256], decoder_channels=16, channels=16
            ),
            **TINY_SEG,
        ),
        'PatchContrastHead': dict(type='PatchContrastHead', in_index=[3], in_channels=[512], channels=16),
        'PixelAnchorHead': dict(
            type='PixelAnchorHead', in_index=[2], in_channels=[256], decoder_channels=16, channels=16
        ),
        'GraSS': dict(
            type='GraSS',
            backbone=R18,
            neck=NECK,
            head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.5),
            data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1]),
        ),
        'PixelPairContrast': dict(
            type='PixelPairContrast',
            backbone=R18,
            neck=dict(type='DenseCLNeck', in_channels=512, hid_channels=64, out_channels=32),
            data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1]),
        ),
        'VTSSegDataset': dict(type='VTSSegDataset', num_samples=2, size=64, pipeline=[]),
        'VTSPairDataset': dict(type='VTSPairDataset', num_samples=2, size=64, pipeline=[]),
        # folder datasets: lazy_init builds the object without scanning files (their loading is
        # tested in tests/test_datasets on real files and fixtures)
        'DubaiAerialDataset': dict(type='DubaiAerialDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'LoveDAUrbanDataset': dict(type='LoveDAUrbanDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'LoveDARuralDataset': dict(type='LoveDARuralDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'XBDSegDataset': dict(type='XBDSegDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'XBDDamageSegDataset': dict(type='XBDDamageSegDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'XBDPairDataset': dict(type='XBDPairDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'RSTileDataset': dict(type='RSTileDataset', data_root=empty, lazy_init=True, pipeline=[]),
        'LabelSubsetDataset': dict(
            type='LabelSubsetDataset',
            fraction=0.5,
            lazy_init=True,
            dataset=dict(type='DubaiAerialDataset', data_root=empty, lazy_init=True, pipeline=[]),
        ),
        'CheckLabelRange': dict(type='CheckLabelRange', num_classes=6),
        'LoadRSTile': dict(type='LoadRSTile'),
        'CheckedLoadImageFromFile': dict(type='CheckedLoadImageFromFile', on_corrupt='skip'),
        'CheckedLoadAnnotations': dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
        'AtomicCheckpointHook': dict(type='AtomicCheckpointHook', interval=2, by_epoch=False),
        'DeterministicWarnOnlyHook': dict(type='DeterministicWarnOnlyHook'),
        'IoUKappaMetric': dict(type='IoUKappaMetric', iou_metrics=['mIoU']),
        'ClassIoUMetric': dict(type='ClassIoUMetric', iou_metrics=['mIoU']),
        'ProbeThenFinetuneHook': dict(type='ProbeThenFinetuneHook', probe_iters=2),
        'ReestimateBNHook': dict(type='ReestimateBNHook', num_samples=16),
        'LoadImagePair': dict(type='LoadImagePair'),
        'PairedViews': dict(
            type='PairedViews',
            geometric=[dict(type='RandomFlip', prob=0.5)],
            photometric=[dict(type='RandomGrayscale', prob=0.2)],
            pair_prob=0.5,
        ),
    }


def _grass_mm_entries():
    import mmengine.registry as mme
    import mmpretrain.registry as pre
    import mmseg.registry as seg

    entries = {}
    for mod in (mme, seg, pre):
        for reg in vars(mod).values():
            if isinstance(reg, Registry):
                for name, cls in reg.module_dict.items():
                    if getattr(cls, '__module__', '').startswith('grass_mm'):
                        entries.setdefault(name, (reg, cls))
    return entries


@pytest.fixture(scope='module')
def single_process_group(tmp_path_factory):
    """DDP wrappers need a process group: one gloo process."""
    if dist.is_initialized():
        yield
        return
    store = str(tmp_path_factory.mktemp('pg') / 'store')
    dist.init_process_group('gloo', init_method=f'file://{store}', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_registered_names_have_configs(tmp_path):
    missing = sorted(set(_grass_mm_entries()) - set(_configs(tmp_path)))
    assert not missing, f'registered modules without a build config in this test: {missing}'
    assert len(_grass_mm_entries()) >= 20


def test_every_registered_module_builds(tmp_path, single_process_group):
    configs = _configs(tmp_path)
    built = []
    for name, (reg, cls) in sorted(_grass_mm_entries().items()):
        with DefaultScope.overwrite_default_scope(reg.scope):
            obj = reg.build(dict(configs[name]))
        assert isinstance(obj, cls), (name, type(obj))
        built.append(name)
        if name == 'CPUDistributedDataParallel':
            assert obj.device_ids is None  # DDP on a CPU module
            out = obj(torch.ones(1, 2))
            assert out.shape == (1, 2)
        if name in ('VTSSegDataset', 'VTSPairDataset'):
            assert len(obj) == 2
    assert len(built) == len(_grass_mm_entries())


def test_cpu_ddp_replaces_syncbn(single_process_group):
    from mmengine.registry import MODEL_WRAPPERS

    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.SyncBatchNorm(4))
    wrapped = MODEL_WRAPPERS.build(dict(type='CPUDistributedDataParallel', module=module))
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in wrapped.module.modules())
    assert any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in wrapped.module.modules())
    assert wrapped(torch.randn(2, 3, 4, 4)).shape == (2, 4, 4, 4)  # SyncBN would raise on CPU


def test_hooks_live_in_engine_hooks():
    """Every hook is in ``grass_mm/engine/hooks/`` (one registered hook per module), registered in the registry of
    the scope its configs use, under the name the configs use."""
    hooks = {
        name: (reg.scope, cls.__module__) for name, (reg, cls) in _grass_mm_entries().items() if reg.name == 'hook'
    }
    assert hooks == {
        'AtomicCheckpointHook': ('mmengine', 'grass_mm.engine.hooks.atomic_checkpoint_hook'),
        'DeterministicWarnOnlyHook': ('mmengine', 'grass_mm.engine.hooks.deterministic_warn_only_hook'),
        'PlainCheckpointHook': ('mmengine', 'grass_mm.engine.hooks.plain_checkpoint_hook'),
        'GraSSWarmupHook': ('mmpretrain', 'grass_mm.engine.hooks.grass_warmup_hook'),
        'ProbeThenFinetuneHook': ('mmseg', 'grass_mm.engine.hooks.probe_then_finetune_hook'),
        'ReestimateBNHook': ('mmseg', 'grass_mm.engine.hooks.reestimate_bn_hook'),
    }
