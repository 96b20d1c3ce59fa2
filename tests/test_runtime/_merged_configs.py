"""Merged (fully inherited) configs as plain JSON data, for the config-refactor test.

``python tests/test_runtime/_merged_configs.py CONFIGS_ROOT OUT.json`` writes the reference: every
config under ``CONFIGS_ROOT`` except ``_base_`` folders, ``quickstart/`` and ``smoke/``, keyed by its
path relative to ``CONFIGS_ROOT``.
"""

import glob
import json
import os.path as osp
import sys

from mmengine.config import Config

SKIP_DIRS = ('quickstart', 'smoke')


def leaf_configs(root):
    """Relative paths of the leaf configs of the families (not ``_base_``, quickstart, smoke)."""
    out = []
    for path in sorted(glob.glob(osp.join(root, '**', '*.py'), recursive=True)):
        rel = osp.relpath(path, root)
        parts = rel.split(osp.sep)
        if '_base_' in parts or parts[0] in SKIP_DIRS:
            continue
        out.append(rel.replace(osp.sep, '/'))
    return out


def plain(obj):
    """Tuples -> lists, ConfigDicts -> dicts: a JSON round trip makes both sides comparable."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def merged(path):
    return plain(Config.fromfile(path).to_dict())


def main(root, out):
    data = {rel: merged(osp.join(root, rel)) for rel in leaf_configs(root)}
    with open(out, 'w') as f:
        json.dump(data, f, sort_keys=True, separators=(',', ':'))
    print(f'{len(data)} merged configs -> {out}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
