"""tools/quickstart.py with a tiny budget: pretrain -> fine-tune -> evaluate -> table and pictures."""
import csv
import glob
import os
import os.path as osp
import re

import pytest
from PIL import Image
from test_runtime._tools import run_tool

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = ['--pretrain-iters', '4', '--finetune-iters', '3', '--batch', '4', '--seg-batch', '2', '--size', '64',
        '--view-size', '32', '--num-pictures', '2', '--workers', '0']
METHODS = ('random-init', 'SimCLR', 'GraSS')


def quickstart(*args):
    return run_tool([osp.join(REPO_ROOT, 'tools', 'quickstart.py'), *args], timeout=1200)


def logged_test_metrics(work_dir):
    """aAcc / mIoU / mAcc of the newest ``Iter(test)`` line of the run's text log."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    lines = [ln for p in logs for ln in open(p) if 'Iter(test)' in ln and 'mIoU' in ln]
    assert lines, f'no test result in the logs of {work_dir}'
    return {k: float(re.search(rf'{k}: ([\d.]+)', lines[-1]).group(1)) for k in ('aAcc', 'mIoU', 'mAcc')}


def check_outputs(out, proc, dataset):
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    with open(osp.join(out, 'results.csv')) as f:
        rows = {(r['method'], r['dataset']): r for r in csv.DictReader(f)}
    for method in METHODS:
        row = rows[(method, dataset)]
        logged = logged_test_metrics(osp.join(out, 'finetune', method.lower()))
        # the table holds exactly what the evaluation logged
        assert float(row['mIoU']) == pytest.approx(logged['mIoU'], abs=1e-9)
        assert float(row['OA']) == pytest.approx(logged['aAcc'], abs=1e-9)
        assert float(row['mAcc']) == pytest.approx(logged['mAcc'], abs=1e-9)
        preds = glob.glob(osp.join(out, 'pictures', 'predictions', method.lower(), '**', '*.png'),
                          recursive=True)
        assert preds, f'no prediction pictures for {method}'
    for (m, d), row in rows.items():
        if d == 'mean gain vs SimCLR' and m == 'GraSS':
            g = float(rows[('GraSS', dataset)]['mIoU']) - float(rows[('SimCLR', dataset)]['mIoU'])
            assert float(row['mIoU']) == pytest.approx(g, abs=1e-3)
    with open(osp.join(out, 'results.md')) as f:
        md = f.read()
    assert md.strip() in proc.stdout  # the table is printed
    for png in ('results.png', 'lam_dar.png'):
        with Image.open(osp.join(out, png)) as im:
            assert im.size[0] > 100 and im.size[1] > 100
    assert glob.glob(osp.join(out, 'pictures', 'lam', '*_lam.png'))


def test_quickstart_vts_tiny(tmp_path):
    out = str(tmp_path / 'qs')
    proc = quickstart('--work-dir', out, '--num-train', '8', '--num-val', '4', *TINY)
    check_outputs(out, proc, 'VTS')
    assert '[9/9]' in proc.stdout and 'Iter(train)' in proc.stdout  # progress shown
    # the runs are ordinary configs: the fine-tuning from GraSS starts from the GraSS checkpoint,
    # and the same budget and seed went into both pretrainings
    from mmengine.config import Config
    cfgs = {osp.basename(p): Config.fromfile(p) for p in glob.glob(osp.join(out, 'configs', '*.py'))}
    grass_ft = cfgs['fcn_r18_grass_quickstart_vts.py']
    ckpt = grass_ft.model.backbone.init_cfg.checkpoint
    assert ckpt.startswith(osp.join(out, 'pretrain', 'grass')) and osp.isfile(ckpt)
    assert cfgs['fcn_r18_random-init_quickstart_vts.py'].model.backbone.init_cfg is None
    simclr, grass = cfgs['simclr_r18_quickstart_vts.py'], cfgs['grass_r18_quickstart_vts.py']
    assert simclr.train_cfg.max_iters == grass.train_cfg.max_iters == 4
    assert simclr.randomness == grass.randomness
    assert [h for h in grass.custom_hooks if h.type == 'GraSSWarmupHook'][0].warmup_iters == 2
    with open(osp.join(out, 'commands.sh')) as f:
        commands = [ln for ln in f if ln.startswith('python ')]
    assert len(commands) == 9 and all(c.split()[1].startswith(('tools/', osp.join(REPO_ROOT, 'tools')))
                                      for c in commands)


def test_quickstart_dataset_config(tmp_path, rs_tiles):
    """Any mmseg dataset config (here the real Potsdam crop); labels from the dataset type."""
    out = str(tmp_path / 'qs')
    proc = quickstart('--work-dir', out, '--dataset-config', 'configs/smoke/potsdam_crop.py', *TINY)
    check_outputs(out, proc, 'Potsdam')


def test_quickstart_refuses_foreign_or_earlier_work_dir(tmp_path):
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('my notes')
    proc = quickstart('--work-dir', str(mine), '--overwrite', *TINY)
    assert proc.returncode == 1
    assert f'--work-dir {mine} exists and is not empty, and no quickstart made it' in proc.stderr
    assert (mine / 'notes.txt').read_text() == 'my notes' and os.listdir(mine) == ['notes.txt']
    earlier = tmp_path / 'earlier'
    earlier.mkdir()
    (earlier / '.grass_mm_quickstart').write_text('')
    (earlier / 'results.md').write_text('old table')
    proc = quickstart('--work-dir', str(earlier), *TINY)
    assert proc.returncode == 1 and 'pass --overwrite' in proc.stderr
    assert (earlier / 'results.md').read_text() == 'old table'


@pytest.mark.parametrize('args, message', [
    (['--data', 'no/such/folder'], '--data no/such/folder is not a folder'),
    (['--dataset-config', 'no_such.py'], '--dataset-config no_such.py does not exist'),
    (['--warmup-share', '1.5'], '--warmup-share must lie in [0, 1)'),
    (['--batch', '1'], '--batch must be at least 2'),
])
def test_quickstart_bad_flags(tmp_path, args, message):
    proc = quickstart('--work-dir', str(tmp_path / 'qs'), *args)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_quickstart_dubai_raw(tmp_path, dubai_root):
    """--data on the raw Kaggle layout: converted into the work dir, the source left as it was."""
    before = sorted(glob.glob(osp.join(dubai_root, '**', '*'), recursive=True))
    out = str(tmp_path / 'qs')
    proc = quickstart('--work-dir', out, '--data', dubai_root, *TINY)
    check_outputs(out, proc, 'Dubai')
    assert glob.glob(osp.join(out, 'data', 'dubai_aerial', 'ann_dir', 'val', '*.png'))
    assert sorted(glob.glob(osp.join(dubai_root, '**', '*'), recursive=True)) == before
