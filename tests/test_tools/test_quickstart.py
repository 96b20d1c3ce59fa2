"""tools/quickstart.py with a tiny budget: pretrain -> fine-tune -> evaluate -> table and pictures.

The end-to-end run starts the tool in a fresh interpreter, as a user does; its steps (``tools/train.py``,
``tools/visualize_lam.py``) run in forks of that interpreter (``run_tool(..., fork_steps=True)``), not in fresh
ones. The other tests call the library (``grass_mm.experiments.quickstart``) in this interpreter.
"""

import csv
import glob
import os
import os.path as osp
import re

import pytest
from PIL import Image
from test_runtime._tools import run_tool

from grass_mm.experiments import SweepError, quickstart
from grass_mm.experiments.cli import parse_quickstart
from grass_mm.experiments.data import split_images

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = [
    '--pretrain-iters',
    '4',
    '--finetune-iters',
    '3',
    '--batch',
    '4',
    '--seg-batch',
    '2',
    '--size',
    '64',
    '--view-size',
    '32',
    '--num-pictures',
    '1',
    '--workers',
    '0',
    '--fractions',
    '0.5',
    '--protocols',
    'frozen',
    '--seeds',
    '0',
]
METHODS = ('random-init', 'SimCLR', 'GraSS')


def logged_test_metrics(work_dir):
    """aAcc / mIoU / mAcc of the newest evaluation line (``Iter(val)`` at the end of training) of the run's log."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    lines = [ln for p in logs for ln in open(p) if 'Iter(val)' in ln and 'mIoU' in ln]
    assert lines, f'no test result in the logs of {work_dir}'
    return {k: float(re.search(rf'{k}: ([\d.]+)', lines[-1]).group(1)) for k in ('aAcc', 'mIoU', 'mAcc')}


def check_outputs(out, proc):
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    with open(osp.join(out, 'results.csv')) as f:
        rows = {r['method']: r for r in csv.DictReader(f)}
    assert set(rows) == set(METHODS)
    for method in METHODS:
        row = rows[method]
        assert (row['protocol'], row['fraction'], row['seed']) == ('frozen', '0.5', '0')
        logged = logged_test_metrics(row['work_dir'])
        # the table holds exactly what the evaluation logged
        assert float(row['mIoU']) == pytest.approx(logged['mIoU'], abs=1e-3)
        assert float(row['OA']) == pytest.approx(logged['aAcc'], abs=1e-3)
        assert float(row['mAcc']) == pytest.approx(logged['mAcc'], abs=1e-3)
        preds = glob.glob(osp.join(out, 'pictures', 'predictions', method.lower(), '**', '*.png'), recursive=True)
        assert preds, f'no prediction pictures for {method}'
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert md.strip() in proc.stdout  # the table is printed
    g = float(rows['GraSS']['mIoU']) - float(rows['SimCLR']['mIoU'])
    assert f'| GraSS - SimCLR | frozen encoder | 50% | {g:+.2f} |' in md  # one seed: no interval
    assert 'chance level ln(2N-1) = 1.95' in md and '| SimCLR | 0 |' in md
    for png in ('results.png', 'lam_dar.png'):
        with Image.open(osp.join(out, png)) as im:
            assert im.size[0] > 100 and im.size[1] > 100
    assert glob.glob(osp.join(out, 'pictures', 'lam', '*_lam.png'))


def test_quickstart_default_data_tiny(tmp_path):
    """The default data are the Dubai tiles shipped in the package, converted into the work dir."""
    demo = osp.join(REPO_ROOT, 'grass_mm', 'demo', 'dubai_aerial')
    before = sorted(glob.glob(osp.join(demo, '**', '*'), recursive=True))
    out = str(tmp_path / 'qs')
    proc = run_tool([osp.join(REPO_ROOT, 'tools', 'quickstart.py'), '--work-dir', out, *TINY], fork_steps=True)
    check_outputs(out, proc)
    assert '[6/6]' in proc.stdout and 'Iter(train)' in proc.stdout  # progress shown
    assert len(glob.glob(osp.join(out, 'data', 'dubai_aerial', 'ann_dir', 'val', '*.png'))) == 9  # tile 6
    assert sorted(glob.glob(osp.join(demo, '**', '*'), recursive=True)) == before
    # the runs are ordinary configs: the fine-tuning from GraSS starts from the GraSS checkpoint,
    # and the same budget and seed went into both pretrainings
    from mmengine.config import Config

    cfgs = {osp.basename(p): Config.fromfile(p) for p in glob.glob(osp.join(out, 'configs', '*.py'))}
    grass_ft = cfgs['fcn_r18_grass_frozen_frac0.5_seed0.py']
    ckpt = grass_ft.model.backbone.init_cfg.checkpoint
    assert ckpt.startswith(osp.join(out, 'pretrain', 'grass')) and osp.isfile(ckpt)
    assert grass_ft.model.backbone.frozen_stages == 4 and grass_ft.model.backbone.norm_eval
    assert grass_ft.train_dataloader.dataset.type == 'LabelSubsetDataset'
    assert cfgs['fcn_r18_random-init_frozen_frac0.5_seed0.py'].model.backbone.init_cfg is None
    simclr, grass = cfgs['pretrain_simclr_r18_dubai_seed0.py'], cfgs['pretrain_grass_r18_dubai_seed0.py']
    assert simclr.train_cfg.max_iters == grass.train_cfg.max_iters == 4
    assert simclr.randomness == grass.randomness
    assert simclr.train_dataloader.dataset.data_prefix == 'img_dir/train'  # never a validation image
    assert [h for h in grass.custom_hooks if h.type == 'GraSSWarmupHook'][0].warmup_iters == 2
    with open(osp.join(out, 'commands.sh')) as f:
        commands = [ln for ln in f if ln.startswith('python ')]
    assert len(commands) == 6 and all(
        c.split()[1].startswith(('tools/', osp.join(REPO_ROOT, 'tools'))) for c in commands
    )


def test_quickstart_vts_data(tmp_path):
    """--vts writes the synthetic set and points every dataloader at it (no training here)."""
    args = parse_quickstart(['--vts', '--num-train', '4', '--num-val', '2', '--size', '32', '--view-size', '16'])
    data = quickstart.quickstart_data(args, str(tmp_path))
    assert data['name'] == 'VTS' and data['num_classes'] == 2
    for split, n in (('train', 4), ('val', 2)):
        assert len(split_images(data['seg'], split)) == n
    assert parse_quickstart(['--vts']).vts


def test_quickstart_refuses_foreign_or_earlier_work_dir(tmp_path):
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('my notes')
    with pytest.raises(SweepError) as err:
        quickstart.run(parse_quickstart(['--work-dir', str(mine), '--overwrite', *TINY]))
    assert f'--work-dir {mine} exists and is not empty, and no quickstart made it' in str(err.value)
    assert (mine / 'notes.txt').read_text() == 'my notes' and os.listdir(mine) == ['notes.txt']
    earlier = tmp_path / 'earlier'
    earlier.mkdir()
    (earlier / '.grass_mm_quickstart').write_text('')
    (earlier / 'results.md').write_text('old table')
    with pytest.raises(SweepError, match='pass --overwrite'):
        quickstart.run(parse_quickstart(['--work-dir', str(earlier), *TINY]))
    assert (earlier / 'results.md').read_text() == 'old table'


@pytest.mark.parametrize(
    'args, message',
    [
        (['--data', 'no/such/folder'], '--data no/such/folder is not a folder'),
        (['--dataset-config', 'no_such.py'], '--dataset-config no_such.py does not exist'),
    ],
)
def test_quickstart_bad_inputs(tmp_path, args, message):
    """Inputs refused before anything is written (the flags argparse refuses: tests/test_experiments)."""
    with pytest.raises(SweepError, match=re.escape(message)):
        quickstart.run(parse_quickstart(['--work-dir', str(tmp_path / 'qs'), *args]))
    assert not (tmp_path / 'qs').exists()
