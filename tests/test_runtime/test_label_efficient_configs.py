"""configs/label_efficient: the GraSS lab's DeepLab v3+ fine-tuning protocol on 1/5/10/100 % of the labels."""

import glob
import json
import os.path as osp
import re
import sys
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import grass_mm  # noqa: F401

from ._tools import REPO_ROOT, memoised_config_lookups, run_tool

FAMILY = osp.join(REPO_ROOT, 'configs', 'label_efficient')
LEAVES = sorted(glob.glob(osp.join(FAMILY, '*.py')))
DATASETS = {
    'potsdam': 'PotsdamDataset',
    'loveda-urban': 'LoveDAUrbanDataset',
    'loveda-rural': 'LoveDARuralDataset',
    'dubai': 'DubaiAerialDataset',
}
POTSDAM_1PCT = osp.join(FAMILY, 'deeplabv3plus_r50-os16-grass-pre_1xb16-adam-150e_potsdam-1pct-256x256.py')


@pytest.fixture(scope='module', autouse=True)
def _read_mmseg_metafiles_once():
    """Parse the grid fast (see _tools.memoised_config_lookups)."""
    with memoised_config_lookups():
        yield


def _build(model_cfg, device='cpu'):
    """Build in the mmseg scope; on ``device='meta'`` (shapes, no storage) it takes 0.1 s instead of seconds."""
    from mmseg.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmseg'), torch.device(device):
        return MODELS.build(model_cfg)


def test_grid_is_complete():
    names = {osp.basename(p) for p in LEAVES}
    expected = {
        f'deeplabv3plus_r50-os16-grass-pre_1xb16-adam-150e_{d}-{p}pct-256x256.py'
        for d in DATASETS
        for p in (1, 5, 10, 100)
    }
    assert names == expected


@pytest.mark.parametrize('path', LEAVES, ids=[osp.basename(p)[49:-3] for p in LEAVES])
def test_leaf_states_its_difference_and_builds(path):
    from mmseg.registry import DATASETS as SEG_DATASETS

    ds_key, pct = re.search(r'_([a-z-]+)-(\d+)pct-256x256\.py$', path).groups()
    with open(path) as f:
        code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.lstrip().startswith('#')]
    assert len(code) == 2, code  # its dataset base and its label fraction, nothing else
    cfg = Config.fromfile(path)
    loader = cfg.train_dataloader
    subset = loader.dataset.dataset
    assert subset.type == 'LabelSubsetDataset' and subset.fraction == int(pct) / 100 and subset.seed == 0
    assert subset.dataset.type == DATASETS[ds_key] and loader.batch_size == 16 and loader.drop_last
    assert loader.sampler.type == 'DefaultSampler'  # epochs, not an infinite sampler
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and cfg.train_cfg.max_epochs == 150
    assert cfg.val_evaluator.type == 'IoUKappaMetric' and cfg.test_evaluator.type == 'IoUKappaMetric'
    assert tuple(cfg.model.data_preprocessor.size) == (256, 256)
    assert [t for t in subset.dataset.pipeline if t.type == 'RandomCrop'][0].crop_size == (256, 256)
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.prefix == 'backbone.' and init.checkpoint.endswith('.pth')

    model = _build(cfg.model, 'meta')
    classes = SEG_DATASETS.get(DATASETS[ds_key]).METAINFO['classes']
    assert model.decode_head.conv_seg.out_channels == len(classes)
    assert type(model.backbone).__name__ == 'ResNet' and not model.backbone.deep_stem
    assert type(model.decode_head).__name__ == 'DepthwiseSeparableASPPHead' and not model.with_auxiliary_head


def test_output_stride_is_16():
    model = _build(Config.fromfile(POTSDAM_1PCT).model, 'meta').eval()
    x = torch.zeros(1, 3, 64, 64, device='meta')
    with torch.no_grad():
        feats = model.backbone(x)
        logits = model.encode_decode(x, [dict(img_shape=(64, 64))])
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 4]  # layer4 dilated, not strided: 64 / 16 = 4
    assert logits.shape == (1, 6, 64, 64)


def test_optimizer_is_adam_1e4_wd_1e5_decaying_098_per_epoch():
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS

    cfg = Config.fromfile(POTSDAM_1PCT)
    model = _build(cfg.model, 'meta')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == 'Adam'
    groups = wrapper.optimizer.param_groups
    assert {g['lr'] for g in groups} == {1e-4} and {g['weight_decay'] for g in groups} == {1e-5}
    assert sum(len(g['params']) for g in groups) == len(list(model.parameters()))  # the whole network
    assert [s['by_epoch'] for s in cfg.param_scheduler] == [True]
    sched = PARAM_SCHEDULERS.build(dict(cfg.param_scheduler[0], optimizer=wrapper))
    for _ in range(3):  # ParamSchedulerHook steps a by-epoch scheduler once per epoch
        sched.step()
    assert groups[0]['lr'] == pytest.approx(1e-4 * 0.98**3)


@pytest.fixture(scope='module')
def pretrain_ckpt(tmp_path_factory):
    """A pretraining checkpoint as grass_mm/mmpretrain write it: ``backbone.*`` of an mmpretrain ResNet-50."""
    from mmpretrain.models import ResNet

    torch.manual_seed(0)
    backbone = ResNet(depth=50)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['neck.fc.weight'] = torch.zeros(4, 2048)  # a projection head the segmentation model must ignore
    path = str(tmp_path_factory.mktemp('pretrain') / 'resnet50_pretrain.pth')
    torch.save({'state_dict': state}, path)
    return path, backbone.state_dict()


def test_pretraining_checkpoint_loads_with_zero_missing_keys(pretrain_ckpt):
    path, backbone_sd = pretrain_ckpt
    cfg = Config.fromfile(POTSDAM_1PCT)
    cfg.model.backbone.init_cfg.checkpoint = path
    seg = _build(cfg.model)
    target = seg.backbone.state_dict()
    assert sorted(set(target) - set(backbone_sd)) == [] and sorted(set(backbone_sd) - set(target)) == []
    seg.init_weights()
    loaded = seg.backbone.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in backbone_sd.items())


def test_one_percent_potsdam_trains_and_reports_kappa(pretrain_ckpt, rs_tiles, tmp_path):
    """The 1 % Potsdam leaf through tools/train.py on the real crop: 2 epochs x 1 iteration, batch 2, crop 64."""
    ckpt, _ = pretrain_ckpt
    root = osp.join(rs_tiles, 'potsdam')
    prefix = dict(img_path='img_dir', seg_map_path='ann_dir')
    tiny = tmp_path / 'tiny.py'
    tiny.write_text(f"""
_base_ = [{POTSDAM_1PCT!r}]
model = dict(data_preprocessor=dict(size=(64, 64)), backbone=dict(init_cfg=dict(checkpoint={ckpt!r})))
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.9, 1.1), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='RandomFlip', prob=[0.2, 0.2, 0.2], direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='CheckedLoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(
    times=2, dataset=dict(dataset=dict(data_root={root!r}, data_prefix={prefix!r}, pipeline=train_pipeline))))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={root!r}, data_prefix={prefix!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1000, save_last=False))
""")
    work = tmp_path / 'work'
    proc = run_tool(
        ['tools/train.py', str(tiny), '--work-dir', str(work)], env=dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    # 1 % of the one tile is that tile, written into the work dir
    assert (work / 'label_subset.txt').read_text().splitlines() == [osp.join(root, 'img_dir', '2_10_0_0_512_512.png')]
    assert 'Epoch(train) [2][1/1]' in out and ckpt in out  # epoch-based; the pretraining checkpoint loaded
    assert 'lr: 1.0000e-04' in out and 'lr: 9.8000e-05' in out  # x0.98 after the first epoch
    scalars = [json.loads(ln) for f in glob.glob(str(work / '*' / 'vis_data' / 'scalars.json')) for ln in open(f)]
    val = [s for s in scalars if 'mIoU' in s]
    assert len(val) == 1 and {'aAcc', 'mIoU', 'mAcc', 'Kappa'} <= set(val[0])
    assert -100 <= val[0]['Kappa'] <= 100 and val[0]['Kappa'] <= val[0]['aAcc']
    assert re.search(r'Kappa: -?\d+\.\d+', out)


def _write_potsdam_zips(folder, scenes, size):
    """Fake ISPRS zips: ``top_potsdam_{id}_RGB.tif`` and ``top_potsdam_{id}_label.tif`` (RGB colour labels)."""
    import cv2

    h, w = size
    colours = np.array([[255, 255, 255], [0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]])
    rng = np.random.default_rng(0)
    with (
        zipfile.ZipFile(folder / '2_Ortho_RGB.zip', 'w') as rgb_zip,
        zipfile.ZipFile(folder / '5_Labels_all.zip', 'w') as lbl_zip,
    ):
        for sid in scenes:
            img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            lbl = colours[rng.integers(0, 6, (h, w))].astype(np.uint8)  # RGB colours of classes 1..6
            for z, name, arr in (
                (rgb_zip, f'top_potsdam_{sid}_RGB.tif', img),
                (lbl_zip, f'top_potsdam_{sid}_label.tif', lbl[..., ::-1]),
            ):  # cv2 writes BGR
                tmp = str(folder / name)
                cv2.imwrite(tmp, arr)
                z.write(tmp, name)


def _converter():
    from test_runtime._tools import load_tool

    return load_tool('tools/dataset_converters/potsdam.py')


def test_potsdam_converter_cuts_the_labs_256px_tiles(tmp_path, monkeypatch):
    """The README's command: 256-px tiles, last row/column moved inward, training scenes -> train."""
    import cv2

    src = tmp_path / 'zips'
    src.mkdir()
    _write_potsdam_zips(src, ['2_10', '2_13'], size=(800, 600))  # 2_10 is a training scene, 2_13 a test one
    out = tmp_path / 'potsdam_256'
    monkeypatch.setattr(sys, 'argv', list(sys.argv))  # the converter hands its arguments to mmseg's via argv
    converter = _converter()
    converter.main([str(src), '-o', str(out), '--clip_size', '256'])
    for split, sid in (('train', '2_10'), ('val', '2_13')):
        imgs = sorted(glob.glob(str(out / 'img_dir' / split / '*.png')))
        anns = sorted(glob.glob(str(out / 'ann_dir' / split / '*.png')))
        # ceil(600 / 256) x ceil(800 / 256) = 3 x 4 tiles (a 6000-px scene: 24 x 24 = 576)
        assert len(imgs) == len(anns) == 12
        assert all(osp.basename(p).startswith(sid + '_') for p in imgs)
        assert {cv2.imread(p).shape[:2] for p in imgs} == {(256, 256)}
        xs = sorted({int(osp.basename(p).split('_')[2]) for p in imgs})
        ys = sorted({int(osp.basename(p).split('_')[3]) for p in imgs})
        assert xs == [0, 256, 600 - 256] and ys == [0, 256, 512, 800 - 256]
        assert set(np.unique(cv2.imread(anns[0], cv2.IMREAD_UNCHANGED))) == set(range(1, 7))  # colours -> 1..6
    with pytest.raises(ValueError, match=r'--stride_size 512 must lie in 1\.\.--clip_size \(256\)'):
        converter.main([str(src), '-o', str(tmp_path / 'x'), '--clip_size', '256', '--stride_size', '512'])
