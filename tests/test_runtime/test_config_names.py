"""Every config under ``configs/`` (``_base_`` folders excepted) is named by one scheme, and its name is true.

The scheme is mmseg's for segmentation and mmpretrain's for pretraining (the kind is the merged config's
``default_scope``), e.g. mmseg's ``fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py`` and mmpretrain's
``simclr_resnet50_16xb256-coslr-200e_in1k.py``::

    segmentation  {algorithm}_{backbone}[_{component}...]_{gpus}xb{batch}[-{setting}...]-{schedule}_{dataset}-{crop}
    pretraining   {algorithm}_{backbone}[_{component}...]_{gpus}xb{batch}[-{setting}...]-{schedule}_{dataset}[-{res}px]

* ``backbone`` may end in ``-{method}-pre`` (mmseg's ``in1k-pre``): initialised from the checkpoint of that
  pretraining method (``work_dirs/{method}_.../*.pth``);
* ``component``: a module beside the backbone and the decode head (``patch-contrast``, ``pixel-anchor``,
  ``linear-neck``), as mmseg's ``vit_deit-s16_mln_upernet``;
* ``setting``: training-setting variants where mmseg / mmpretrain put them (``8xb2-amp-80k``, ``8xb32-coslr``):
  ``frozen``, ``amp``, ``bf16``, ``coslr``, ``adam``, ``adamw``, ... (:data:`SETTINGS`);
* ``schedule``: ``{N}k`` (N thousand iterations, mmseg), ``{N}e`` (epochs, mmpretrain), ``{N}it`` (iterations, for
  the short runs of ``quickstart/`` and ``smoke/``: not a multiple of 1000);
* ``dataset``: one spelling per dataset (``loveda-rural``, not ``loveda_rural``), with a label fraction as a dataset
  variant (``potsdam-10pct``, as mmseg's ``pascal-context-59``); pretraining data are ``tiles-{dataset}`` (unlabelled
  tiles) or ``{dataset}-pairs``;
* ``crop``: the training crop ``HxW``; for pretraining ``{res}px`` (mmpretrain's ``in1k-384px``) when the views
  are not 224 px.

The values in a name are checked against the merged config: batch, GPUs (``auto_scale_lr.base_batch_size`` and
the ``dist_train.sh`` / ``slurm_train.sh`` commands in the READMEs), schedule, crop / view size, label fraction,
pretrained checkpoint, settings, components, algorithm, backbone and dataset. Merging ~100 configs is the slow
part: :func:`memoised_config_files` parses each file once (``test_cached_loader_merges_as_mmengine``).
The renames that brought the configs to this scheme (issue 24) are listed in ``data/config_renames.tsv``.
"""

import contextlib
import copy
import glob
import os
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

from ._merged_configs import plain
from ._tools import REPO_ROOT, memoised_config_lookups

CONFIGS = osp.join(REPO_ROOT, 'configs')
RENAMES = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'config_renames.tsv')
#: config folders that are not model-zoo families (no README/metafile): runner bases and test configs
NOT_FAMILIES = ('_base_', 'quickstart', 'smoke')

_TOKEN = r'[a-z0-9]+(?:-[a-z0-9]+)*'
_HEAD = rf'(?P<algorithm>{_TOKEN})_(?P<backbone>{_TOKEN})(?P<components>(?:_{_TOKEN})*)'
_TRAIN = r'_(?P<gpus>\d+)xb(?P<batch>\d+)(?P<settings>(?:-[a-z0-9]+)*?)-(?P<schedule>\d+(?:k|e|it))'
SEG_NAME = re.compile(rf'^{_HEAD}{_TRAIN}_(?P<dataset>{_TOKEN}?)-(?P<crop>\d+x\d+)\.py$')
PRETRAIN_NAME = re.compile(rf'^{_HEAD}{_TRAIN}_(?P<dataset>{_TOKEN}?)(?:-(?P<res>\d+)px)?\.py$')
NAME_BY_SCOPE = {'mmseg': SEG_NAME, 'mmpretrain': PRETRAIN_NAME}
_SCHEME = '{algorithm}_{backbone}[_{component}...]_{gpus}xb{batch}[-{setting}...]-{schedule}_{dataset}'
SCHEMES = {'mmseg': _SCHEME + '-{crop}.py', 'mmpretrain': _SCHEME + '[-{res}px].py'}

SEG_ALGORITHMS = {'fcn': 'FCNHead', 'upernet': 'UPerHead', 'deeplabv3plus': 'DepthwiseSeparableASPPHead'}
PRETRAIN_ALGORITHMS = {
    'grass': 'GraSS',
    'simclr': 'SimCLR',
    'mocov2': 'MoCo',
    'byol': 'BYOL',
    'barlowtwins': 'BarlowTwins',
    'densecl': 'DenseCL',
    'pixel-pair': 'PixelPairContrast',
}
#: backbone token -> predicate on model.backbone
BACKBONES = {
    **{
        f'{p}{d}': (lambda b, d=d: b['type'] == 'ResNet' and b['depth'] == d) for p in ('r', 'resnet') for d in (18, 50)
    },
    'r18-d8': lambda b: b['type'] == 'ResNetV1c' and b['depth'] == 18 and list(b['strides'])[-2:] == [1, 1],
    'r50-os16': lambda b: b['type'] == 'ResNet' and b['depth'] == 50 and list(b['strides']) == [1, 2, 2, 1],
    'swin-t': lambda b: b['type'] == 'SwinTransformer' and (b.get('arch') == 'tiny' or b.get('embed_dims') == 96),
    'convnext-t': lambda b: b['type'] == 'ConvNeXt' and b['arch'] == 'tiny',
    'vit-s-p16': lambda b: b['type'] == 'VisionTransformer' and b['arch'] == 'deit-small' and b['patch_size'] == 16,
}
#: component token -> predicate on model
COMPONENTS = {
    'patch-contrast': lambda m: 'patch_contrast_head' in m,
    'pixel-anchor': lambda m: 'pixel_anchor_head' in m,
    'linear-neck': lambda m: (m.get('neck') or {}).get('type') == 'LinearNeck',
}
#: training-setting token -> predicate on the config summary; a name carries the token iff the predicate holds
SETTINGS = {
    'frozen': lambda s: (s['backbone'].get('frozen_stages') or -1) > 0,
    'amp': lambda s: s['optim_wrapper'] == 'AmpOptimWrapper',
    'bf16': lambda s: s['amp_dtype'] == 'bfloat16',
    'coslr': lambda s: 'CosineAnnealingLR' in s['schedulers'],
    'larc-restart': lambda s: 'CosineRestartLR' in s['schedulers'],
    'adam': lambda s: s['optimizer'] == 'Adam',
    'adamw': lambda s: s['optimizer'] == 'AdamW',
    'ct-recipe': lambda s: s['model'].get('patch_contrast_head', {}).get('clip') is not None,
    'weak-colour': lambda s: bool(s['jitter']) and all(j.get('saturation') == 0 for j in s['jitter']),
}
SEG_DATASETS = {
    'potsdam': 'PotsdamDataset',
    'dubai': 'DubaiAerialDataset',
    'loveda-rural': 'LoveDARuralDataset',
    'loveda-urban': 'LoveDAUrbanDataset',
    'vts': 'VTSSegDataset',
}
#: pretraining data: tiles of a dataset (RSTileDataset; the data_root it ends in) or pairs
TILE_ROOTS = {
    'potsdam': 'potsdam',
    'dubai': 'dubai_aerial',
    'loveda-rural': 'loveDA_domains/rural',
    'loveda-urban': 'loveDA_domains/urban',
    'vts': 'vts',
    'rs': 'mmseg_rs_tiles',  # the real Potsdam / Vaihingen / LoveDA crops in ../shared/data (smoke)
}
PAIRS = {'vts-pairs': 'VTSPairDataset', 'xbd-pairs': 'XBDPairDataset'}
DEFAULT_VIEW_SIZE = 224  # mmpretrain names the view size only when it is not 224 px
README_GPUS = (
    re.compile(r'dist_train\.sh\s+configs/(\S+\.py)\s+(\d+)'),
    re.compile(r'GPUS=(\d+)\s+bash\s+tools/slurm_train\.sh\s+\S+\s+\S+\s+configs/(\S+\.py)'),
)


def leaf_configs():
    """Paths relative to ``configs/`` of every config outside ``_base_`` folders."""
    paths = glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    rels = (osp.relpath(p, CONFIGS).replace(osp.sep, '/') for p in paths)
    return sorted(r for r in rels if '_base_' not in r.split('/'))


@contextlib.contextmanager
def memoised_config_files():
    """Parse every config file once, and read each package's metafiles once.

    mmengine's ``Config._file2dict`` re-reads a base for each config that inherits it. Its result depends on the
    file alone (its own predefined variables and ``_base_`` placeholders; environment variables do not change
    here), so it is remembered by path and handed out as a copy (mmengine updates what it gets). For each
    ``mmseg::``/``mmpretrain::`` base, mmengine first looks the path up among all the package's metafiles
    (``_get_cfg_metainfo``, ~1 s): here the name -> model table is built once per package, with mmengine's rules.
    """
    import mmengine.config.utils as cfg_utils
    from mmengine.fileio import load

    file2dict, memo, tables = Config._file2dict, {}, {}

    def memoised(filename, use_predefined_variables=True, use_environment_variables=True, lazy_import=None):
        key = (osp.abspath(filename), use_predefined_variables, use_environment_variables, lazy_import)
        if key not in memo:
            memo[key] = file2dict(filename, use_predefined_variables, use_environment_variables, lazy_import)
        return copy.deepcopy(memo[key])

    def metainfo(package_path, cfg_path):
        if package_path not in tables:
            table = tables[package_path] = {}
            for meta_path in load(osp.join(package_path, '.mim', 'model-index.yml'))['Import']:
                for model_cfg in load(osp.join(package_path, '.mim', meta_path))['Models']:
                    if 'Config' in model_cfg:  # the first of a name wins, as in mmengine
                        table.setdefault(model_cfg['Config'].partition('/')[-1], model_cfg)
        if cfg_path not in tables[package_path]:
            raise ValueError(f'Expected configs: {tables[package_path].keys()}, but got {cfg_path}')
        return tables[package_path][cfg_path]

    with memoised_config_lookups():
        lookups = cfg_utils._get_cfg_metainfo
        Config._file2dict, cfg_utils._get_cfg_metainfo = staticmethod(memoised), metainfo
        try:
            yield
        finally:
            Config._file2dict, cfg_utils._get_cfg_metainfo = staticmethod(file2dict), lookups


def _find(node, type_name):
    """Every dict with ``type == type_name`` under ``node``."""
    if isinstance(node, dict):
        if node.get('type') == type_name:
            yield node
        for v in node.values():
            yield from _find(v, type_name)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _find(v, type_name)


def _inner_dataset(ds):
    while 'dataset' in ds:  # RepeatDataset(LabelSubsetDataset(dataset))
        ds = ds['dataset']
    return ds


def summary(cfg):
    """What a name states, read from a merged config (a plain dict)."""
    model, loader = cfg.get('model', {}), cfg['train_dataloader']
    train = cfg['train_cfg']
    crops = [tuple(c['crop_size']) for c in _find(loader, 'RandomCrop')]
    views = sorted({c['scale'] for c in _find(loader, 'RandomResizedCrop')})
    subsets = list(_find(loader, 'LabelSubsetDataset'))
    schedulers = cfg.get('param_scheduler') or []
    schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
    return dict(
        scope=cfg.get('default_scope'),
        model=model,
        backbone=model.get('backbone') or {},
        batch=loader['batch_size'],
        base_batch=(cfg.get('auto_scale_lr') or {}).get('base_batch_size'),
        max_iters=train.get('max_iters') if 'max_epochs' not in train else None,
        max_epochs=train.get('max_epochs'),
        crop=crops[0] if crops else tuple(model.get('data_preprocessor', {}).get('size') or ()),
        views=views,
        fraction=subsets[0]['fraction'] if subsets else None,
        dataset=_inner_dataset(loader['dataset']),
        optim_wrapper=cfg['optim_wrapper'].get('type', 'OptimWrapper'),
        amp_dtype=cfg['optim_wrapper'].get('dtype'),
        optimizer=cfg['optim_wrapper'].get('optimizer', {}).get('type'),
        schedulers={s['type'] for s in schedulers},
        jitter=list(_find(loader, 'ColorJitter')),
        checkpoint=((model.get('backbone') or {}).get('init_cfg') or {}).get('checkpoint'),
    )


def parse(name, scope):
    """The name's components (a dict), or None where it does not follow the scheme of ``scope``."""
    m = NAME_BY_SCOPE[scope].match(name)
    return m.groupdict() if m else None


def name_problems(name, s):
    """What in config name ``name`` (a basename) disagrees with its merged config's summary ``s``."""
    parts = parse(name, s['scope'])
    if parts is None:
        return [f"not {s['scope']}'s scheme: {SCHEMES[s['scope']]}"]
    out = []

    def check(ok, what):
        if not ok:
            out.append(what)

    gpus, batch = int(parts['gpus']), int(parts['batch'])
    check(batch == s['batch'], f'batch {batch}: train_dataloader.batch_size is {s["batch"]}')
    if s['base_batch'] is not None:
        check(gpus * batch == s['base_batch'], f'{gpus}x{batch} GPUs x batch: auto_scale_lr says {s["base_batch"]}')
    n, unit = re.fullmatch(r'(\d+)(k|e|it)', parts['schedule']).groups()
    if unit == 'e':
        check(s['max_epochs'] == int(n), f'schedule {parts["schedule"]}: max_epochs is {s["max_epochs"]}')
    else:
        iters = int(n) * (1000 if unit == 'k' else 1)
        check(s['max_iters'] == iters, f'schedule {parts["schedule"]}: max_iters is {s["max_iters"]}')
        check(unit == 'k' or iters % 1000, f'schedule {parts["schedule"]}: write {iters // 1000}k')
    settings = parts['settings'].lstrip('-')
    known = '|'.join(re.escape(t) for t in sorted(SETTINGS, key=len, reverse=True))
    ok = re.fullmatch(rf'(?:(?:{known})(?:-(?:{known}))*)?', settings)
    check(ok, f'unknown training setting in {settings!r}: known are {sorted(SETTINGS)} (add one with its meaning)')
    for token, holds in SETTINGS.items():
        named = re.search(rf'(?:^|-){re.escape(token)}(?:-|$)', settings) is not None
        check(named == bool(holds(s)), f'setting {token!r} {"named but absent" if named else "present but not named"}')
    components = [c for c in parts['components'].split('_') if c]
    for token, holds in COMPONENTS.items():
        check((token in components) == bool(holds(s['model'])), f'component {token!r} and the model disagree')
    check(set(components) <= set(COMPONENTS), f'unknown component(s) {sorted(set(components) - set(COMPONENTS))}')

    backbone, pre = parts['backbone'], None
    for method in PRETRAIN_ALGORITHMS:
        if backbone.endswith(f'-{method}-pre'):
            backbone, pre = backbone[: -len(f'-{method}-pre')], method
    ckpt = s['checkpoint']
    if pre:
        check(bool(ckpt) and osp.basename(osp.dirname(ckpt)).startswith(f'{pre}_'), f'-{pre}-pre: checkpoint {ckpt}')
    else:
        check(not ckpt, f'initialised from {ckpt}: name it in the backbone (-<method>-pre)')
    check(backbone in BACKBONES and BACKBONES[backbone](s['backbone']), f'backbone {backbone!r}: {s["backbone"]}')

    dataset, ds = parts['dataset'], s['dataset']
    if s['scope'] == 'mmseg':
        head = (s['model'].get('decode_head') or {}).get('type')
        check(SEG_ALGORITHMS.get(parts['algorithm']) == head, f'algorithm {parts["algorithm"]!r}: decode head {head}')
        pct = re.search(r'-(\d+)pct$', dataset)
        if pct:
            dataset = dataset[: pct.start()]
        fraction = int(pct.group(1)) / 100 if pct else None
        check(fraction == s['fraction'], f'label fraction {fraction}: the config has {s["fraction"]}')
        check(SEG_DATASETS.get(dataset) == ds['type'], f'dataset {dataset!r}: {ds["type"]}')
        h, w = map(int, parts['crop'].split('x'))
        check((h, w) == tuple(s['crop']), f'crop {h}x{w}: the training crop is {s["crop"]}')
    else:
        algo = s['model'].get('type')
        check(PRETRAIN_ALGORITHMS.get(parts['algorithm']) == algo, f'algorithm {parts["algorithm"]!r}: model {algo}')
        if dataset.startswith('tiles-'):
            root = TILE_ROOTS.get(dataset[len('tiles-') :])
            ok = ds['type'] == 'RSTileDataset' and root is not None and ds['data_root'].rstrip('/').endswith(root)
            check(ok, f'dataset {dataset!r}: {ds["type"]} at {ds.get("data_root")}')
        else:
            check(PAIRS.get(dataset) == ds['type'], f'dataset {dataset!r}: {ds["type"]}')
        res = int(parts['res']) if parts['res'] else DEFAULT_VIEW_SIZE
        check(s['views'] == [res], f'view size {res} px: RandomResizedCrop scale(s) {s["views"]}')
    return out


@pytest.fixture(scope='module')
def summaries():
    with memoised_config_files():
        return {
            rel: summary(plain(Config.fromfile(osp.join(CONFIGS, rel), import_custom_modules=False).to_dict()))
            for rel in leaf_configs()
        }


def test_every_name_follows_the_scheme_and_states_its_config(summaries):
    assert len(summaries) >= 100
    problems = [f'{rel}: {p}' for rel, s in summaries.items() for p in name_problems(osp.basename(rel), s)]
    assert problems == [], '\n'.join(problems)


def test_readme_commands_start_as_many_processes_as_the_name_says():
    docs = [osp.join(REPO_ROOT, 'README.md')] + glob.glob(osp.join(CONFIGS, '*', 'README.md'))
    docs += glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'), recursive=True)
    seen, wrong = 0, []
    for doc in docs:
        with open(doc) as f:
            text = f.read()
        for pattern in README_GPUS:
            for m in pattern.finditer(text):
                rel, n = (m.group(1), m.group(2)) if pattern is README_GPUS[0] else (m.group(2), m.group(1))
                gpus = re.search(r'_(\d+)xb\d+', osp.basename(rel))
                seen += 1
                if not osp.isfile(osp.join(CONFIGS, rel)) or gpus is None or gpus.group(1) != n:
                    wrong.append(f'{osp.relpath(doc, REPO_ROOT)}: {n} processes for configs/{rel}')
    assert seen >= 5 and wrong == []


def test_every_family_has_readme_metafile_and_model_index_entry():
    families = sorted(
        d for d in os.listdir(CONFIGS) if osp.isdir(osp.join(CONFIGS, d)) and d not in NOT_FAMILIES + ('__pycache__',)
    )
    assert len(families) >= 7
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        assert sorted(yaml.safe_load(f)['Import']) == [f'configs/{fam}/metafile.yml' for fam in families]
    for fam in families:
        folder = osp.join(CONFIGS, fam)
        leaves = sorted(osp.basename(p)[:-3] for p in glob.glob(osp.join(folder, '*.py')))
        with open(osp.join(folder, 'metafile.yml')) as f:
            meta = yaml.safe_load(f)
        assert sorted(m['Name'] for m in meta['Models']) == leaves, fam
        assert all(m['Config'] == f'configs/{fam}/{m["Name"]}.py' for m in meta['Models']), fam
        assert {m['In Collection'] for m in meta['Models']} == {c['Name'] for c in meta['Collections']}, fam
        with open(osp.join(folder, 'README.md')) as f:
            rows = re.findall(r'^\| \[([^\]]+)\]\(\./([^)]+)\.py\)', f.read(), re.M)
        assert sorted(name for name, _ in rows) == leaves and all(a == b for a, b in rows), fam


def renames():
    """(old, new) paths relative to ``configs/`` (the mapping is read from a file that the rename script does not
    rewrite: the old names written here in code would be rewritten to the new ones)."""
    with open(RENAMES) as f:
        return [ln.rstrip('\n').split('\t') for ln in f if ln.strip() and not ln.startswith('#')]


def test_renamed_configs_exist_under_their_new_names_only():
    pairs = renames()
    assert len(pairs) >= 80
    assert [old for old, _ in pairs if osp.exists(osp.join(CONFIGS, old))] == []
    assert [new for _, new in pairs if not osp.isfile(osp.join(CONFIGS, new))] == []


def test_old_names_fail_the_scheme(summaries):
    """The four schemes before issue 24 (``fcn_r50_grass-pretrain-frozen_40k_loveda_rural``, ...) fail."""
    leaves = [(old, new) for old, new in renames() if '_base_' not in new.split('/')]
    assert len(leaves) >= 78
    assert [old for old, new in leaves if parse(osp.basename(old), summaries[new]['scope']) is not None] == []


@pytest.mark.parametrize(
    'name',
    [
        # one component out of place or misspelt (the names before issue 24: test_old_names_fail_the_scheme)
        'fcn_r50-grass-pre_8xb4-40k_loveda_rural-512x512.py',
        'fcn_r50-grass-pre_8xb4-40k_potsdam.py',
        'fcn_r50-grass-pre_8x4-40k_potsdam-512x512.py',
        'fcn_r50-grass-pre_40k-8xb4_potsdam-512x512.py',
        'fcn_r50-grass-pre_8xb4-40000_potsdam-512x512.py',
    ],
)
def test_scheme_rejects_other_names(name):
    assert parse(name, 'mmseg') is None


@pytest.mark.parametrize(
    'name',
    ['grass_resnet50_8xb32-coslr-350e_tiles-loveda_urban.py', 'grass_resnet50_coslr-350e_tiles-potsdam.py'],
)
def test_pretraining_scheme_rejects_other_names(name):
    assert parse(name, 'mmpretrain') is None


FINETUNE = 'finetune/fcn_r50-grass-pre_8xb4-40k_potsdam-512x512.py'
GRASS = 'grass/grass_resnet50_8xb32-coslr-350e_tiles-potsdam.py'
LABEL_10PCT = 'label_efficient/deeplabv3plus_r50-os16-grass-pre_1xb16-adam-150e_potsdam-10pct-256x256.py'


@pytest.mark.parametrize(
    'rel, old, new, complaint',
    [
        (FINETUNE, '8xb4', '8xb2', 'batch 2'),
        (FINETUNE, '-40k', '-80k', 'schedule'),
        (FINETUNE, '512x512', '256x256', 'crop'),
        (FINETUNE, 'potsdam', 'dubai', 'dataset'),
        (FINETUNE, '-grass-pre', '', '-pre'),
        (FINETUNE, '-grass-pre', '-simclr-pre', '-simclr-pre'),
        (FINETUNE, '8xb4-', '8xb4-frozen-', 'frozen'),
        (FINETUNE, 'fcn_', 'upernet_', 'algorithm'),
        (FINETUNE, 'r50', 'r18', 'backbone'),
        (FINETUNE, 'r50', 'r50_pixel-anchor', 'pixel-anchor'),
        (GRASS, '8xb32', '16xb32', 'GPUs'),
        (GRASS, '-coslr', '', 'coslr'),
        (GRASS, 'potsdam', 'potsdam-64px', 'view size'),
        (GRASS, '-coslr', '-mixup-coslr', 'unknown'),
        (GRASS, 'tiles-potsdam', 'tiles-dubai', 'dataset'),
        (GRASS, 'grass_', 'simclr_', 'algorithm'),
        (LABEL_10PCT, '-10pct', '-1pct', 'fraction'),
        (LABEL_10PCT, '-adam-', '-adamw-', 'adam'),
    ],
)
def test_a_name_that_misstates_its_config_fails(summaries, rel, old, new, complaint):
    name = osp.basename(rel)
    assert name_problems(name, summaries[rel]) == []
    problems = name_problems(name.replace(old, new, 1), summaries[rel])
    assert any(complaint in p for p in problems), problems


def test_cached_loader_merges_as_mmengine():
    """The memoised parse gives mmengine's merged config: one config with ``mmseg::`` bases, ``{{_base_.x}}``
    placeholders and a chain of local bases, one with ``mmpretrain::`` bases; parsed twice from one memo."""
    rels = (
        'patch_contrast/upernet_swin-t-grass-pre_patch-contrast_4xb4-80k_potsdam-512x512.py',
        'quickstart/simclr_resnet18_linear-neck_1xb16-weak-colour-coslr-200it_tiles-vts-64px.py',
    )
    paths = [osp.join(CONFIGS, rel) for rel in rels]
    with memoised_config_lookups():
        reference = [plain(Config.fromfile(p, import_custom_modules=False).to_dict()) for p in paths]
    with memoised_config_files():
        for _ in range(2):
            assert [plain(Config.fromfile(p, import_custom_modules=False).to_dict()) for p in paths] == reference
