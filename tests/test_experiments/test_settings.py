"""grass_mm.experiments.settings and .cli: flags -> settings -> work-dir marker -> settings; refusals."""

import json

import pytest

from grass_mm.experiments import NoisyPairsSettings, QuickstartSettings, SettingsError, SweepSettings
from grass_mm.experiments.cli import parse_noisy_pairs, parse_quickstart, parse_sweep, sweep_parser
from grass_mm.experiments.work_dir import MARKER, prepare_work_dir, read_settings_marker

TINY = ['--pretrain-iters', '3', '--finetune-iters', '2', '--batch', '4', '--seg-batch', '2', '--size', '64']
TINY += ['--view-size', '32', '--workers', '0']
#: the marker the runner wrote before it became a library (a cross-validation work dir of docs/results/cv_dubai)
OLD_CV_MARKER = {
    'data': None,
    'dataset_config': None,
    'depth': 18,
    'decoder': 'fcn',
    'pretrain_iters': 120,
    'warmup_share': 0.5,
    'finetune_iters': 40,
    'batch': 16,
    'seg_batch': 4,
    'size': 128,
    'view_size': 64,
    'pretrain_config': [],
    'finetune_optimizer': 'sgd',
    'finetune_lr': 0.01,
    'backbone_lr_mult': 1.0,
    'norm_eval': False,
    'probe_iters': 0,
    'reestimate_bn': False,
    'device': 'cpu',
    'reuse_pretraining': None,
    'seg_scale': None,
    'folds': 'tiles',
}
OLD_CV_COMMAND = (
    '--folds tiles --methods random-init SimCLR GraSS GraSS-random-boxes supervised --seeds 0 --pretrain-iters 120 '
    '--finetune-iters 40 --workers 1 --work-dir work_dirs/cv_dubai --fractions 1 --protocols linear frozen full '
    '--report-only'
).split()


def test_parser_defaults_are_the_settings_defaults():
    """Every flag's destination is a field and its default the field's default (one source of truth)."""
    for parse, cls in ((parse_sweep, SweepSettings), (parse_quickstart, QuickstartSettings)):
        assert parse([]) == cls()
    assert parse_noisy_pairs([]) == NoisyPairsSettings()
    assert SweepSettings().finetune_lr == 0.01 and SweepSettings(finetune_optimizer='adam').finetune_lr == 1e-4
    q = QuickstartSettings()
    assert (q.pretrain_iters, q.finetune_iters, q.workers, q.seeds, q.protocols) == (
        120,
        40,
        1,
        [0],
        ['linear', 'frozen', 'full'],
    )
    assert q.methods == list(QuickstartSettings.METHODS) and not q.report_only and q.folds == 'none'


def test_round_trip_cli_settings_marker_settings(tmp_path):
    """CLI -> settings -> work-dir marker (a JSON file) -> settings: the recorded settings come back equal, the
    others (the plan) as their defaults; the marker is what prepare_work_dir writes and compares."""
    argv = ['--methods', 'random-init', 'SimCLR', '--fractions', '0.5', '1', '--seeds', '3', '--norm-eval']
    argv += ['--pretrain-config', f'Mine={tmp_path}/x.py', '--reuse-pretraining', 'rel/dir', *TINY]
    settings = SweepSettings.from_dict(vars(sweep_parser().parse_args(argv)))
    assert settings.norm_eval and settings.fractions == [0.5, 1.0] and settings.pretrain_iters == 3
    wd = tmp_path / 'sw'
    assert prepare_work_dir(str(wd), settings) is False
    stored = json.loads((wd / MARKER).read_text())
    assert stored == settings.marker() and list(stored) == list(SweepSettings.MARKER_KEYS)
    assert stored['reuse_pretraining'].endswith('/rel/dir') and stored['reuse_pretraining'].startswith('/')
    back = SweepSettings.from_marker(read_settings_marker(str(wd)))
    assert back.marker() == settings.marker()
    for key in SweepSettings.MARKER_KEYS:
        if key != 'reuse_pretraining':
            assert getattr(back, key) == getattr(settings, key), key
    assert back.methods == SweepSettings().methods and back.seeds == SweepSettings().seeds
    # the plan may change on a resume, the recorded settings may not
    assert prepare_work_dir(str(wd), SweepSettings.from_marker(stored, seeds=[7])) is True
    # the noisy-pair study the same way
    noisy = parse_noisy_pairs(['--size', '32', '--base-channels', '8', '--finetune', '--r-img', '0'])
    assert NoisyPairsSettings.from_marker(json.loads(json.dumps(noisy.marker()))).marker() == noisy.marker()


def test_marker_of_the_earlier_runner_reads_as_the_same_settings(tmp_path):
    """A work dir written by the runner before it became a library (docs/results/cv_dubai's command) resumes and
    reports: its marker equals the marker of the same command now."""
    settings = parse_sweep(OLD_CV_COMMAND)
    assert settings.marker() == OLD_CV_MARKER
    wd = tmp_path / 'cv_dubai'
    wd.mkdir()
    (wd / MARKER).write_text(json.dumps(OLD_CV_MARKER, indent=1))
    (wd / 'folds').mkdir()
    assert prepare_work_dir(str(wd), settings) is True
    # a marker written before a setting existed: that setting reads as its old value
    older = {k: v for k, v in OLD_CV_MARKER.items() if k not in ('probe_iters', 'reestimate_bn')}
    assert SweepSettings.from_marker(older).marker() == OLD_CV_MARKER
    assert SweepSettings.stored(older)['probe_iters'] == 0


@pytest.mark.parametrize(
    'build',
    [
        lambda: SweepSettings.from_dict(dict(methods=['GraSS'], finetune_itrs=5)),
        lambda: SweepSettings.from_marker(dict(OLD_CV_MARKER, finetune_itrs=5)),
        lambda: NoisyPairsSettings.from_marker(dict(NoisyPairsSettings().marker(), finetune_itrs=5)),
    ],
)
def test_unknown_keys_are_refused_naming_the_key(build):
    with pytest.raises(SettingsError) as err:
        build()
    msg = str(err.value)
    assert "unknown setting 'finetune_itrs'" in msg and len(msg.splitlines()) == 1
    assert "did you mean 'finetune" in msg


def test_marker_with_an_unknown_key_stops_a_resume_in_one_line(tmp_path):
    wd = tmp_path / 'sw'
    wd.mkdir()
    (wd / MARKER).write_text(json.dumps(dict(OLD_CV_MARKER, colour='blue')))
    from grass_mm.experiments import SweepError

    with pytest.raises(SweepError) as err:
        prepare_work_dir(str(wd), parse_sweep(OLD_CV_COMMAND))
    assert f'{wd / MARKER}: unknown setting' in str(err.value) and "'colour'" in str(err.value)
    assert len(str(err.value).splitlines()) == 1
    (wd / MARKER).write_text('[1, 2]')
    with pytest.raises(SweepError, match='not a settings marker'):
        prepare_work_dir(str(wd), parse_sweep(OLD_CV_COMMAND))


def test_other_settings_in_the_same_work_dir_are_refused_naming_them(tmp_path):
    wd = tmp_path / 'old'
    wd.mkdir()
    (wd / MARKER).write_text(json.dumps(dict(depth=18)))  # a marker older than most settings
    from grass_mm.experiments import SweepError

    with pytest.raises(SweepError, match='finetune_iters: None -> 2'):
        prepare_work_dir(str(wd), parse_sweep(TINY))
    (wd / MARKER).write_text(json.dumps(parse_sweep(TINY).marker()))
    assert prepare_work_dir(str(wd), parse_sweep(TINY)) is True
    with pytest.raises(SweepError, match='probe_iters: 0 -> 1'):
        prepare_work_dir(str(wd), parse_sweep(['--probe-iters', '1', *TINY]))


@pytest.mark.parametrize(
    'parse, extra, message',
    [
        (parse_sweep, ['--fractions', '1.5'], 'label fraction 1.5 is outside (0, 1]'),
        (parse_sweep, ['--fractions', '0'], 'label fraction 0 is outside (0, 1]'),
        (parse_sweep, ['--methods', 'random-init', 'BYOLX'], "unknown method(s) ['BYOLX']"),
        (parse_sweep, ['--pretrain-config', 'MoCo'], "--pretrain-config 'MoCo': expected NAME=CONFIG"),
        (parse_sweep, ['--pretrain-config', 'MoCo=no/such.py'], 'config file no/such.py does not exist'),
        (parse_sweep, ['--probe-iters', '2'], '--probe-iters must lie in [0, --finetune-iters 2), got 2'),
        (parse_sweep, ['--finetune-optimizer', 'lamb'], "invalid choice: 'lamb'"),
        (parse_sweep, ['--finetune-optimizer', 'adam', '--finetune-lr', '0'], '--finetune-lr must be positive'),
        (parse_sweep, ['--methods', 'random-init', 'GraSS-random-boxes'], 'list GraSS too'),
        (parse_sweep, ['--fold-tiles', 'tile_1'], '--fold-tiles needs --folds tiles'),
        (parse_sweep, ['--seeds', '0', '0'], '--seeds lists a value twice: [0, 0]'),
        (parse_quickstart, ['--warmup-share', '1.5'], '--warmup-share must lie in [0, 1)'),
        (parse_quickstart, ['--batch', '1'], '--batch must be at least 2'),
        (parse_quickstart, ['--fractions', '2'], 'label fraction 2 is outside (0, 1]'),
        (parse_quickstart, ['--vts', '--data', 'x'], '--vts cannot be combined with --data or --dataset-config'),
        (parse_quickstart, ['--num-val', '0'], '--num-val must be positive, got 0'),
        (parse_noisy_pairs, ['--r-img', '1.5'], '--r-img values must lie in [0, 1], got 1.5'),
        (parse_noisy_pairs, ['--noisy-share', '-0.2'], '--noisy-share values must lie in [0, 1], got -0.2'),
        (parse_noisy_pairs, ['--batch', '0'], '--batch must be positive, got 0'),
        (parse_noisy_pairs, ['--size', '48'], '--size must be a multiple of 32'),
        (parse_noisy_pairs, ['--methods', 'simclr'], "argument --methods: invalid choice: 'simclr'"),
        (parse_noisy_pairs, ['--r-img', '0', '0'], '--r-img lists a value twice'),
        (parse_noisy_pairs, ['--eval-lr', '0'], '--lr and --eval-lr must be positive'),
    ],
)
def test_bad_flags(parse, extra, message, capsys):
    """What each tool refuses, as argparse errors (usage, one ``error:`` line naming the flag, exit 2)."""
    argv = extra + (TINY if parse is parse_sweep else [])
    with pytest.raises(SystemExit) as exit_:
        parse(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert 'error:' in err[-1] and message in err[-1], err


def test_settings_made_in_code_are_checked_like_flags():
    """Settings built without the command line are refused with the same lines, choices included."""
    for bad, message in (
        (SweepSettings(protocols=['probe']), "--protocols: invalid choice 'probe'"),
        (SweepSettings(fractions=[0.0]), 'label fraction 0 is outside (0, 1]'),
        (SweepSettings(data='a', dataset_config='b.py'), '--data and --dataset-config exclude each other'),
        (SweepSettings(depth=101), '--depth: invalid choice 101 (choose from 18, 34, 50)'),
        (QuickstartSettings(vts=True, data='x'), '--vts cannot be combined'),
        (NoisyPairsSettings(views='jitter'), "--views: invalid choice 'jitter'"),
        (NoisyPairsSettings(workers=-1), '--workers must be >= 0, got -1'),
    ):
        with pytest.raises(SettingsError) as err:
            bad.check()
        assert message in str(err.value)
    SweepSettings(methods=['random-init', 'GraSS', 'GraSS-random-boxes', 'supervised']).check()
