"""tools/visualize_lam.py writes its PNGs; tools/analysis/dar_purity.py purity vs numpy."""

import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config
from test_runtime._tools import load_tool

from _grass_helpers import small_grass_cfg


def test_box_purity_matches_numpy():
    mod = load_tool('tools/analysis/dar_purity.py')
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (20, 16, 16), generator=g)
    labels[:, :3] = mod.IGNORE
    boxes = torch.stack(
        [
            torch.randint(0, 8, (20,), generator=g),
            torch.randint(0, 8, (20,), generator=g),
            torch.randint(8, 16, (20,), generator=g),
            torch.randint(8, 16, (20,), generator=g),
        ],
        1,
    )
    got = mod.box_purity(labels, boxes)
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        lab = labels[i, y0 : y1 + 1, x0 : x1 + 1].numpy().ravel()
        lab = lab[lab != mod.IGNORE]
        ref = np.bincount(lab).max() / len(lab) if len(lab) else np.nan
        assert np.isclose(float(got[i]), ref, equal_nan=True)


def test_visualize_lam_writes_pngs(rs_tiles, tmp_path, monkeypatch):
    cfg = Config(dict(model=small_grass_cfg()))
    cfg_path = str(tmp_path / 'grass_small.py')
    cfg.dump(cfg_path)
    out = tmp_path / 'vis'
    monkeypatch.setattr(
        sys,
        'argv',
        [
            'visualize_lam.py',
            cfg_path,
            'none',
            osp.join(rs_tiles, 'loveda', 'img_dir'),
            '--out',
            str(out),
            '--size',
            '64',
        ],
    )
    load_tool('tools/visualize_lam.py').main()  # in-process: no second interpreter start-up
    pngs = sorted(out.glob('*_lam.png'))
    assert len(pngs) >= 2
    from PIL import Image

    assert Image.open(pngs[0]).size[0] > Image.open(pngs[0]).size[1]  # 4 panels side by side
