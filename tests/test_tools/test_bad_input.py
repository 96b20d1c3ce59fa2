"""Bad input loses no data and gets one line (issue #25): every tool under tools/, as a user runs it.

Each case runs one command as a subprocess (without ``PYTHONWARNINGS``, so third-party noise would
show) and checks: the exit code, no traceback and no ``pkg_resources`` noise in the output, one
``error:`` line on stderr naming the offending file, key or value, and that a sentinel file the test
put into every folder involved is still there, byte for byte (so are the user files a case names).
"""

import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO_ROOT, 'grass_mm', 'demo', 'dubai_aerial')
SHARED = os.environ.get('GRASS_SHARED_DATA', osp.join(osp.dirname(REPO_ROOT), 'shared', 'data'))
FCN_VTS = 'configs/quickstart/fcn_r18_1xb4-150it_vts-128x128.py'  # data/vts is absent: the typo must win
# the Potsdam crop in ../shared/data: the runner would start
FCN_SMOKE = 'configs/smoke/fcn_r18_1xb2-4it_potsdam-128x128.py'
GRASS = 'configs/quickstart/grass_resnet18_1xb16-coslr-200it_tiles-vts-64px.py'
SENTINEL = 'SENTINEL_do_not_delete.txt'
NOISE = ('Traceback', 'pkg_resources')


@dataclass
class Case:
    """One bad input: ``setup(tmp)`` prepares files and returns the command (after ``python``)."""

    id: str
    setup: Callable
    code: int
    token: str  # what the error line must name; ``{tmp}`` is replaced by the case's folder
    guarded: List[str] = field(default_factory=list)  # folders (relative to tmp) that get a sentinel
    kept: List[str] = field(default_factory=list)  # user files (relative to tmp) that must stay as they are
    one_line: bool = True  # stderr is exactly the error line (False: argparse's usage may come first)
    fresh: bool = False  # run in a fresh interpreter (sees import-time noise), not forked from a warm one
    skip: Optional[Callable] = None  # returns a reason to skip, or None


# ----------------------------------------------------------------------------- fixtures of the cases
def _png(path, size=40, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)


def _images(tmp, n=2):
    for i in range(n):
        _png(osp.join(tmp, 'imgs', f'im{i}.png'), seed=i)
    return osp.join(tmp, 'imgs')


def _text(path, text='not what it should be\n'):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def _tiny_dubai(tmp):
    """Tiles 1 and 6 of the shipped demo with one image each (a raw Kaggle layout)."""
    src = osp.join(tmp, 'src')
    for tile in ('tile_1', 'tile_6'):
        for sub, ext in (('images', '.jpg'), ('masks', '.png')):
            os.makedirs(osp.join(src, tile, sub))
            shutil.copy(osp.join(DEMO, tile, sub, 'image_part_001' + ext), osp.join(src, tile, sub))
    return src


def _earlier_quickstart(tmp):
    """A folder an earlier quickstart made, with its results."""
    work = osp.join(tmp, 'work')
    _text(osp.join(work, '.grass_mm_quickstart'), '')
    _text(osp.join(work, 'results.md'), '| the earlier table |\n')
    return work


def _fake_run(tmp):
    """An mmengine work dir holding one tools/test.py result (for benchmark_table)."""
    wd = osp.join(tmp, 'run')
    _text(osp.join(wd, '20260101_000000', '20260101_000000.json'), '{"aAcc": 80.0, "mIoU": 60.0, "mAcc": 70.0}\n')
    return f'GraSS@Dubai={wd}'


def _syntax_error_config(tmp):
    return _text(osp.join(tmp, 'cfg', 'broken.py'), "_base_ = ['x.py'\nmodel = dict(\n")


def _potsdam_zip(path, corrupt=False):
    os.makedirs(osp.dirname(path), exist_ok=True)
    if corrupt:
        with open(path, 'wb') as f:
            f.write(b'PK\x03\x04 this is not a whole zip archive' * 10)
        return
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('top_potsdam_2_10_label.tif', b'not a tif')


# ----------------------------------------------------------------------------- commands
def _mkdir(tmp, name):
    path = osp.join(tmp, name)
    os.makedirs(path, exist_ok=True)
    return path


def _existing(tmp, name):
    """A user's file at ``tmp/name``; returns the ``--out`` prefix that would overwrite it."""
    _text(osp.join(tmp, name), 'my own report\n')
    return osp.join(tmp, osp.splitext(name)[0])


def _potsdam_src(tmp, corrupt=False):
    src = _mkdir(tmp, 'zips')
    _potsdam_zip(osp.join(src, '2_Ortho_RGB.zip'), corrupt=corrupt)
    _potsdam_zip(osp.join(src, '5_Labels_all.zip'))
    return src


def _masks(tmp):
    for i in range(2):
        os.makedirs(osp.join(tmp, 'ann'), exist_ok=True)
        Image.fromarray(np.full((40, 40), i, np.uint8)).save(osp.join(tmp, 'ann', f'im{i}.png'))


def _tool(*parts):
    return osp.join(REPO_ROOT, 'tools', *parts)


def quickstart(tmp, *args):
    return [_tool('quickstart.py'), '--work-dir', osp.join(tmp, 'work'), *args]


def visualize(tmp, config=GRASS, ckpt='none', images=None):
    images = images or _images(tmp)
    return [_tool('visualize_lam.py'), config, ckpt, images, '--out', osp.join(tmp, 'out'), '--size', '32']


def dar(tmp, config=GRASS, ckpt=None, img_dir=None, masks=True):
    img_dir = img_dir or _images(tmp)
    _mkdir(tmp, 'ann')
    if masks:
        _masks(tmp)
    extra = ['--checkpoint', ckpt] if ckpt else []
    return [_tool('analysis', 'dar_purity.py'), config, *extra, '--img-dir', img_dir, '--ann-dir', osp.join(tmp, 'ann')]


def train(tmp, *options):
    return [_tool('train.py'), FCN_VTS, '--work-dir', osp.join(tmp, 'w'), '--cfg-options', *options]


def convert_dubai(tmp, out, *more):
    return [_tool('dataset_converters', 'dubai_aerial.py'), DEMO, '-o', osp.join(tmp, out), *more]


def convert_twice(tmp):
    """Convert once (no sentinel yet); the case converts again with --overwrite after the test put its
    sentinel beside the output: only what the converter wrote is replaced."""
    from grass_mm.datasets.converters import convert_dubai_aerial

    src = _tiny_dubai(tmp)
    out = osp.join(tmp, 'out')
    convert_dubai_aerial(src, out, progress=False)
    return [_tool('dataset_converters', 'dubai_aerial.py'), src, '-o', out, '--overwrite']


def export_plain(tmp, config, out):
    return [_tool('model_converters', 'export_plain_seg.py'), config, _text(osp.join(tmp, 'a.pth')), out]


def sweep_seg_pretrain(tmp):
    work = ['--work-dir', osp.join(tmp, 'work')]
    return [_tool('experiments', 'sweep.py'), '--pretrain-config', f'Seg={FCN_VTS}', '--methods', 'Seg', *work]


def _no_shared_data():
    path = osp.join(SHARED, 'mmseg_rs_tiles', 'potsdam')
    return None if osp.isdir(path) else f'real data not available: {path} is absent (set GRASS_SHARED_DATA)'


# ----------------------------------------------------------------------------- the cases
CASES = [
    # --- data lost or overwritten
    Case(
        'quickstart-overwrite-bad-data',
        lambda t: (_earlier_quickstart(t), quickstart(t, '--overwrite', '--data', osp.join(t, 'typo')))[1],
        1,
        '{tmp}/typo',
        guarded=['work'],
        kept=['work/results.md', 'work/.grass_mm_quickstart'],
    ),
    Case(
        'dubai-converter-overwrite-foreign-folder',
        lambda t: (_mkdir(t, 'data/other_dataset'), convert_dubai(t, 'data', '--overwrite'))[1],
        1,
        '{tmp}/data',
        guarded=['data', 'data/other_dataset'],
        fresh=True,
    ),
    Case(
        'vts-converter-overwrite-foreign-folder',
        lambda t: [_tool('dataset_converters', 'vts.py'), '-o', _mkdir(t, 'data'), '--overwrite', '--num-train', '1'],
        1,
        '{tmp}/data',
        guarded=['data'],
    ),
    Case('dubai-converter-overwrite-keeps-user-file', convert_twice, 0, '', guarded=['out', 'src']),
    Case(
        'benchmark-table-existing-md',
        lambda t: [_tool('analysis', 'benchmark_table.py'), _fake_run(t), '--out', _existing(t, 'report.md')],
        1,
        '{tmp}/report.md',
        guarded=['run'],
        kept=['report.md'],
    ),
    Case(
        'benchmark-table-existing-csv',
        lambda t: [_tool('analysis', 'benchmark_table.py'), _fake_run(t), '--out', _existing(t, 'report.csv')],
        1,
        '{tmp}/report.csv',
        kept=['report.csv'],
    ),
    Case(
        'visualize-lam-existing-picture',
        lambda t: (_text(osp.join(t, 'out', 'im0_lam.png'), 'my picture'), visualize(t))[1],
        1,
        '{tmp}/out/im0_lam.png',
        guarded=['out', 'imgs'],
        kept=['out/im0_lam.png'],
    ),
    Case(
        'export-plain-seg-existing-output',
        lambda t: export_plain(t, FCN_VTS, _text(osp.join(t, 'out', 'plain.pth'), 'mine')),
        2,
        '{tmp}/out/plain.pth',
        guarded=['out'],
        kept=['out/plain.pth'],
    ),
    # --- silently wrong
    Case('train-unknown-top-level-key', lambda t: train(t, 'trian_cfg.max_iters=1'), 2, "'train_cfg'", fresh=True),
    Case('train-misspelt-backbone-key', lambda t: train(t, 'model.backbone.depht=18'), 2, "'model.backbone.depth'"),
    Case(
        'train-misspelt-dataloader-key',
        lambda t: train(t, f'train_dataloader.datset.data_root={t}'),  # codespell:ignore datset
        2,
        "'train_dataloader.dataset'",
    ),
    Case(
        'train-unknown-key-with-data',
        lambda t: [
            _tool('train.py'),
            FCN_SMOKE,
            '--work-dir',
            osp.join(t, 'w'),
            '--cfg-options',
            'trian_cfg.max_iters=1',
        ],
        2,
        "did you mean 'train_cfg'?",
        guarded=['w'],
        skip=_no_shared_data,
    ),
    Case(
        'train-misspelt-key-with-data',
        lambda t: [
            _tool('train.py'),
            FCN_SMOKE,
            '--work-dir',
            osp.join(t, 'w'),
            '--cfg-options',
            'model.backbone.depht=18',
        ],
        2,
        "did you mean 'model.backbone.depth'?",
        guarded=['w'],
        skip=_no_shared_data,
    ),
    Case(
        'test-corrupt-checkpoint-with-data',
        lambda t: [
            _tool('test.py'),
            FCN_SMOKE,
            _text(osp.join(t, 'ckpt', 'iter_4.pth')),
            '--work-dir',
            osp.join(t, 'w'),
        ],
        2,
        '{tmp}/ckpt/iter_4.pth',
        guarded=['ckpt'],
        skip=_no_shared_data,
    ),
    Case(
        'test-misspelt-evaluator-key',
        lambda t: [
            _tool('test.py'),
            FCN_VTS,
            _text(osp.join(t, 'a.pth')),
            '--cfg-options',
            'test_evaluator.iou_metrix=1',
        ],
        2,
        "'test_evaluator.iou_metrics'",
    ),
    Case(
        'potsdam-empty-folder',
        lambda t: [_tool('dataset_converters', 'potsdam.py'), _mkdir(t, 'zips'), '-o', osp.join(t, 'out', 'p')],
        1,
        '{tmp}/zips/2_Ortho_RGB.zip',
        guarded=['zips', 'out'],
    ),
    Case(
        'potsdam-corrupt-zip',
        lambda t: [
            _tool('dataset_converters', 'potsdam.py'),
            _potsdam_src(t, corrupt=True),
            '-o',
            osp.join(t, 'out', 'p'),
        ],
        1,
        '{tmp}/zips/2_Ortho_RGB.zip',
        guarded=['zips', 'out'],
    ),
    Case(
        'potsdam-unreadable-scene',
        lambda t: [_tool('dataset_converters', 'potsdam.py'), _potsdam_src(t), '-o', osp.join(t, 'out', 'p')],
        1,
        '{tmp}/zips',
        guarded=['zips', 'out'],
    ),
    Case(
        'quickstart-bad-data-marks-nothing',
        lambda t: quickstart(t, '--data', osp.join(t, 'typo')),
        1,
        '{tmp}/typo',
        guarded=['.'],
    ),
    Case(
        'quickstart-missing-dataset-config-marks-nothing',
        lambda t: quickstart(t, '--dataset-config', osp.join(t, 'missing.py')),
        1,
        '{tmp}/missing.py',
    ),
    Case(
        'quickstart-work-dir-is-a-file',
        lambda t: [_tool('quickstart.py'), '--work-dir', _text(osp.join(t, 'w', 'file.txt'))],
        1,
        '{tmp}/w/file.txt',
        guarded=['w'],
        kept=['w/file.txt'],
    ),
    # --- tracebacks instead of a line
    Case(
        'visualize-lam-missing-checkpoint',
        lambda t: visualize(t, ckpt=osp.join(t, 'missing.pth')),
        1,
        '{tmp}/missing.pth',
        guarded=['imgs'],
    ),
    Case(
        'visualize-lam-text-checkpoint',
        lambda t: visualize(t, ckpt=_text(osp.join(t, 'ckpt', 'notes.pth'))),
        1,
        '{tmp}/ckpt/notes.pth',
        guarded=['imgs', 'ckpt'],
    ),
    Case('visualize-lam-no-images', lambda t: visualize(t, images=_mkdir(t, 'empty')), 2, '{tmp}/empty', ['empty']),
    Case('visualize-lam-segmentation-config', lambda t: visualize(t, config=FCN_VTS), 1, "'EncoderDecoder'", ['imgs']),
    Case(
        'dar-purity-missing-checkpoint',
        lambda t: dar(t, ckpt=osp.join(t, 'missing.pth')),
        1,
        '{tmp}/missing.pth',
        guarded=['imgs', 'ann'],
    ),
    Case(
        'dar-purity-text-checkpoint',
        lambda t: dar(t, ckpt=_text(osp.join(t, 'ckpt', 'notes.pth'))),
        1,
        '{tmp}/ckpt/notes.pth',
        guarded=['imgs', 'ann', 'ckpt'],
    ),
    Case('dar-purity-no-images', lambda t: dar(t, img_dir=_mkdir(t, 'empty')), 1, '{tmp}/empty', ['empty']),
    Case('dar-purity-missing-masks', lambda t: dar(t, masks=False), 1, '{tmp}/ann/im0.png', ['imgs', 'ann']),
    Case('dar-purity-segmentation-config', lambda t: dar(t, config=FCN_VTS), 1, "'EncoderDecoder'", ['imgs', 'ann']),
    Case(
        'quickstart-dataset-config-syntax-error',
        lambda t: quickstart(t, '--dataset-config', _syntax_error_config(t)),
        1,
        '{tmp}/cfg/broken.py',
        guarded=['.', 'cfg'],
    ),
    Case(
        'export-plain-seg-syntax-error-config',
        lambda t: export_plain(t, _syntax_error_config(t), osp.join(t, 'out', 'plain.pth')),
        2,
        '{tmp}/cfg/broken.py',
        guarded=['cfg'],
    ),
    Case(
        'sweep-segmentation-config-as-pretraining',
        sweep_seg_pretrain,
        2,
        FCN_VTS,
        one_line=False,
    ),
    # --- noise around the line
    Case(
        'test-corrupt-checkpoint-early',
        lambda t: [_tool('test.py'), FCN_VTS, _text(osp.join(t, 'ckpt', 'notes.pth')), '--work-dir', osp.join(t, 'w')],
        2,
        '{tmp}/ckpt/notes.pth',
        guarded=['ckpt'],
        fresh=True,
    ),
    Case(
        'train-work-dir-is-a-file',
        lambda t: [_tool('train.py'), FCN_VTS, '--work-dir', _text(osp.join(t, 'w', 'file.txt'))],
        2,
        '{tmp}/w/file.txt',
        guarded=['w'],
        kept=['w/file.txt'],
    ),
]


# ----------------------------------------------------------------------------- the runner
def _run(cmd):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    env.update(OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    return subprocess.run([sys.executable, *cmd], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def _snapshot(tmp, case):
    """Put a sentinel into every guarded folder; return ``{path: bytes}`` of everything to keep."""
    keep = {}
    for rel in case.guarded:
        folder = osp.join(tmp, rel)
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, SENTINEL)
        data = f'{case.id}:{rel}\n'.encode() + os.urandom(16)
        with open(path, 'wb') as f:
            f.write(data)
        keep[path] = data
    for rel in case.kept:
        with open(osp.join(tmp, rel), 'rb') as f:
            keep[osp.join(tmp, rel)] = f.read()
    return keep


def _run_forked(jobs):
    """``{id: CompletedProcess}`` of ``jobs`` (``{id: argv}``), each a child of one warm interpreter
    (``_fork_runner.py``: the same script, arguments, exit code and output, without the start-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs_path, results_path = osp.join(tmp, 'jobs.json'), osp.join(tmp, 'results.json')
        with open(jobs_path, 'w') as f:
            json.dump([dict(id=cid, argv=argv, cwd=REPO_ROOT) for cid, argv in jobs.items()], f)
        runner = _run([osp.join(osp.dirname(osp.abspath(__file__)), '_fork_runner.py'), jobs_path, results_path])
        assert runner.returncode == 0, runner.stderr[-3000:]
        with open(results_path) as f:
            results = json.load(f)
    return {
        cid: subprocess.CompletedProcess(jobs[cid], *(r[k] for k in ('rc', 'stdout', 'stderr')))
        for cid, r in results.items()
    }


@pytest.fixture(scope='module')
def outcomes(request, tmp_path_factory):
    """Set up every selected case, then run them: most forked from one warm interpreter, the ``fresh``
    ones (which also check the start-up noise) in their own, meanwhile.
    ``{case id: (folder, files to keep, CompletedProcess)}``."""
    selected = {
        item.callspec.params['case'].id
        for item in request.session.items
        if hasattr(item, 'callspec') and isinstance(item.callspec.params.get('case'), Case)
    }
    jobs, fresh, forked = {}, {}, {}
    for case in CASES:
        if case.id in selected and not (case.skip and case.skip()):
            tmp = str(tmp_path_factory.mktemp(case.id))
            cmd = case.setup(tmp)
            jobs[case.id] = (tmp, _snapshot(tmp, case))
            (fresh if case.fresh else forked)[case.id] = cmd
    with ThreadPoolExecutor(2) as pool:
        running = {cid: pool.submit(_run, cmd) for cid, cmd in fresh.items()}
        procs = _run_forked(forked) if forked else {}
        procs.update({cid: future.result() for cid, future in running.items()})
    return {cid: (tmp, keep, procs[cid]) for cid, (tmp, keep) in jobs.items()}


@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_bad_input(case, outcomes):
    reason = case.skip() if case.skip else None
    if reason:
        pytest.skip(reason)
    tmp, keep, proc = outcomes[case.id]
    out = proc.stdout + proc.stderr
    assert proc.returncode == case.code, out[-3000:]
    for noise in NOISE:
        assert noise not in out, out[-3000:]
    if case.code:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert lines and 'error: ' in lines[-1], proc.stderr[-3000:]
        assert not case.one_line or (len(lines) == 1 and lines[0].startswith('error: ')), proc.stderr[-3000:]
        assert case.token.format(tmp=tmp) in lines[-1], lines[-1]
    for path, data in keep.items():
        assert osp.isfile(path), f'{path} was removed'
        with open(path, 'rb') as f:
            assert f.read() == data, f'{path} was changed'
    # a failed start leaves no partial output, and no folder marked by a run that never started
    staged = [osp.join(d, n) for d, dirs, files in os.walk(tmp) for n in dirs + files if '.partial-' in n]
    assert not staged, staged
    if case.code and case.id.startswith('quickstart') and 'overwrite' not in case.id:
        assert not osp.exists(osp.join(tmp, 'work'))  # a rerun with the input fixed is not refused
    if case.id.startswith('potsdam'):
        assert not osp.exists(osp.join(tmp, 'out', 'p'))


# ----------------------------------------------------------------------------- the library rules behind the tools
def test_owned_output_replaces_only_what_the_tool_wrote(tmp_path):
    from grass_mm.runtime.outputs import OutputError, owned_output, read_marker

    out = str(tmp_path / 'out')
    with owned_output(out, 'demo') as stage:
        _text(osp.join(stage, 'a', 'x.txt'), 'first')
        _text(osp.join(stage, 'b.txt'), 'first')
    assert read_marker(out, 'demo') == {'a', 'b.txt'}
    _text(osp.join(out, 'notes.txt'), 'mine')
    with pytest.raises(OutputError, match='pass --overwrite'):
        with owned_output(out, 'demo') as stage:
            pass
    with owned_output(out, 'demo', overwrite=True) as stage:
        _text(osp.join(stage, 'a', 'y.txt'), 'second')
    assert sorted(os.listdir(out)) == ['.grass_mm_demo', 'a', 'notes.txt']  # b.txt was the tool's; notes stay
    assert os.listdir(osp.join(out, 'a')) == ['y.txt']
    # a failure inside the block leaves the earlier output as it was, and no staging folder
    with pytest.raises(RuntimeError):
        with owned_output(out, 'demo', overwrite=True) as stage:
            _text(osp.join(stage, 'a', 'z.txt'), 'partial')
            raise RuntimeError('conversion failed')
    assert os.listdir(osp.join(out, 'a')) == ['y.txt'] and sorted(os.listdir(tmp_path)) == ['out']
    # a new entry with the name of a user's file is refused, nothing changes
    with pytest.raises(OutputError, match='notes.txt exists and demo did not write it'):
        with owned_output(out, 'demo', overwrite=True) as stage:
            _text(osp.join(stage, 'notes.txt'), 'theirs')
    assert open(osp.join(out, 'notes.txt')).read() == 'mine' and os.listdir(osp.join(out, 'a')) == ['y.txt']
    # a folder without the marker is never written, even with overwrite
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'data.bin').write_bytes(b'\x00')
    with pytest.raises(OutputError, match='no demo made it'):
        with owned_output(str(foreign), 'demo', overwrite=True):
            pass


@pytest.fixture(scope='module')
def fcn_vts_cfg():
    from mmengine.config import Config

    return Config.fromfile(osp.join(REPO_ROOT, FCN_VTS))


@pytest.mark.parametrize(
    'option, refused',
    [
        ('model.backbone.init_cfg.checkpoint', None),  # init_cfg=None: the option creates the dict
        ('model.backbone.frozen_stages', None),  # not in the config, an argument of ResNetV1c
        ('model.backbone.frozen_stagse', "did you mean 'model.backbone.frozen_stages'"),
        ('train_cfg.val_begin', None),  # an argument of the loop
        ('param_scheduler.0.end', None),
        ('param_scheduler.3.end', "'3' is not an index"),
        ('default_hooks.my_hook.type', None),  # a new hook: any name may go there
        ('default_hooks.checkpiont.interval', "did you mean 'default_hooks.checkpoint'"),
        ('optim_wrapper.paramwise_cfg.norm_decay_mult', None),  # popped by the optimizer wrapper builder
        ('work_dir', None),
        ('max_iter', "did you mean 'max_iters'"),
    ],
)
def test_cfg_options_keys(option, refused, fcn_vts_cfg):
    from grass_mm.runtime import ConfigCheckError, check_cfg_options

    cfg = fcn_vts_cfg
    if refused is None:
        check_cfg_options(cfg, {option: 1})
    else:
        with pytest.raises(ConfigCheckError) as err:
            check_cfg_options(cfg, {option: 1})
        assert f"--cfg-options key '{option}'" in str(err.value) and refused in str(err.value)


def test_check_pretrain_config(tmp_path):
    from grass_mm.runtime import ConfigCheckError, check_pretrain_config

    check_pretrain_config(osp.join(REPO_ROOT, GRASS))
    with pytest.raises(ConfigCheckError, match=r"fcn_r18_1xb4-150it_vts-128x128.py' is a segmentation config"):
        check_pretrain_config(osp.join(REPO_ROOT, FCN_VTS))
    with pytest.raises(ConfigCheckError, match='broken.py'):
        check_pretrain_config(_syntax_error_config(str(tmp_path)))


def test_quickstart_overwrite_removes_only_its_outputs(tmp_path):
    """``--overwrite`` (after every input checked) removes what a quickstart writes; the user's files stay."""
    from grass_mm.experiments import SweepError
    from grass_mm.experiments.work_dir import check_inputs_kept, prepare_quickstart_dir

    work = _earlier_quickstart(str(tmp_path))  # an empty marker, as earlier versions wrote
    for name in ('pretrain/simclr/seed0/iter_4.pth', 'configs/a.py', 'lam_dar.png'):
        _text(osp.join(work, name))
    _text(osp.join(work, 'my_notes.txt'), 'mine')
    with pytest.raises(SweepError, match='pass --overwrite'):
        prepare_quickstart_dir(work, overwrite=False)
    prepare_quickstart_dir(work, overwrite=True)
    assert sorted(os.listdir(work)) == ['.grass_mm_quickstart', 'my_notes.txt']
    with pytest.raises(SweepError, match='lies in'):
        check_inputs_kept(work, [osp.join(work, 'data', 'dubai_aerial')])
