"""A tiny xBD fixture in the official layout, written by the tests (no xBD data here).

``{root}/train/images/{disaster}_{id}_{pre|post}_disaster.png`` (H=40, W=48 RGB) and
``{root}/train/labels/...json`` with ``features.xy[*].wkt`` polygons in pixel coordinates.
``reference_masks`` gives the expected rasters computed from the geometry directly
(pixel (row, col) in a polygon when the point (x=col, y=row) is inside or on its border).
"""

import json
import os

import numpy as np
from PIL import Image

H, W = 40, 48
DISASTER = 'hurricane-test'
IDS = ('00000001', '00000002')
RECT = 'POLYGON ((4 5, 12 5, 12 10, 4 10, 4 5))'
TRI = 'POLYGON ((20 0, 30 0, 20 10, 20 0))'
HOLED = 'POLYGON ((30 20, 40 20, 40 30, 30 30, 30 20), (33 23, 36 23, 36 26, 33 26, 33 23))'
MULTI = 'MULTIPOLYGON (((1 30, 3 30, 3 33, 1 33, 1 30)), ((6 30, 8 30, 8 32, 6 32, 6 30)))'
POST_SUBTYPES = {RECT: 'no-damage', TRI: 'destroyed', HOLED: 'un-classified', MULTI: 'minor-damage'}


def geometry_masks():
    yy, xx = np.mgrid[0:H, 0:W]
    rect = (xx >= 4) & (xx <= 12) & (yy >= 5) & (yy <= 10)
    tri = (xx >= 20) & (yy >= 0) & ((xx - 20) + yy <= 10)
    outer = (xx >= 30) & (xx <= 40) & (yy >= 20) & (yy <= 30)
    hole = (xx >= 33) & (xx <= 36) & (yy >= 23) & (yy <= 26)
    multi = ((xx >= 1) & (xx <= 3) & (yy >= 30) & (yy <= 33)) | ((xx >= 6) & (xx <= 8) & (yy >= 30) & (yy <= 32))
    return {RECT: rect, TRI: tri, HOLED: outer & ~hole, MULTI: multi}


def reference_masks():
    g = geometry_masks()
    building = np.zeros((H, W), np.uint8)
    damage = np.zeros((H, W), np.uint8)
    values = {'no-damage': 1, 'minor-damage': 2, 'major-damage': 3, 'destroyed': 4, 'un-classified': 255}
    for wkt, m in g.items():
        building[m] = 1
        damage[m] = values[POST_SUBTYPES[wkt]]
    return building, damage


def _label(phase):
    feats = []
    for wkt in (RECT, TRI, HOLED, MULTI):
        props = {'feature_type': 'building', 'uid': f'u{len(feats)}'}
        if phase == 'post':
            props['subtype'] = POST_SUBTYPES[wkt]
        feats.append({'properties': props, 'wkt': wkt})
    return {'features': {'lng_lat': [], 'xy': feats}, 'metadata': {'width': W, 'height': H, 'disaster': DISASTER}}


def make_xbd(root, split='train', ids=IDS, post_size=None, seed=0):
    """Write the fixture; returns ``{(id, phase): image_path}``."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, split, 'images'), exist_ok=True)
    os.makedirs(os.path.join(root, split, 'labels'), exist_ok=True)
    paths = {}
    for uid in ids:
        for phase in ('pre', 'post'):
            h, w = post_size if (phase == 'post' and post_size) else (H, W)
            stem = f'{DISASTER}_{uid}_{phase}_disaster'
            img = os.path.join(root, split, 'images', stem + '.png')
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(img)
            with open(os.path.join(root, split, 'labels', stem + '.json'), 'w') as f:
                json.dump(_label(phase), f)
            paths[(uid, phase)] = img
    return paths
