"""xBD labels: parse the ``features.xy`` WKT polygons of a label JSON and rasterize them.

Official layout: ``{split}/images/{disaster}_{id}_{pre|post}_disaster.png`` and
``{split}/labels/{disaster}_{id}_{pre|post}_disaster.json``. In a label JSON,
``features.xy`` is a list of ``{"properties": {"feature_type": "building",
"subtype": "no-damage" | "minor-damage" | "major-damage" | "destroyed" | "un-classified",
"uid": ...}, "wkt": "POLYGON ((x y, x y, ...))"}`` in pixel coordinates (pre-disaster
labels have no ``subtype``).

Rasterization convention: a pixel ``(row, col)`` belongs to a polygon when the point
``(x=col, y=row)`` is inside it or on its boundary (``skimage.draw.polygon``); holes
are cleared; polygons are drawn in file order (a later one overwrites an earlier one).
"""

import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
from skimage.draw import polygon as draw_polygon

XBD_BUILDING_CLASSES = ('background', 'building')
XBD_DAMAGE_CLASSES = ('background', 'no-damage', 'minor-damage', 'major-damage', 'destroyed')
#: damage subtype -> index in the ``damage`` task; ``un-classified`` -> ignore (255).
XBD_DAMAGE_INDEX = {'no-damage': 1, 'minor-damage': 2, 'major-damage': 3, 'destroyed': 4, 'un-classified': 255}
XBD_NAME = re.compile(r'^(?P<disaster>.+)_(?P<id>\d+)_(?P<phase>pre|post)_disaster$')
_NUM = r'[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?'


def parse_xbd_name(path: str) -> Tuple[str, str, str]:
    """``.../{disaster}_{id}_{pre|post}_disaster.ext`` -> ``(disaster, id, phase)``."""
    stem = osp.splitext(osp.basename(path))[0]
    m = XBD_NAME.match(stem)
    if m is None:
        raise ValueError(f'{path} is not named {{disaster}}_{{id}}_{{pre|post}}_disaster')
    return m.group('disaster'), m.group('id'), m.group('phase')


def _ring(text: str) -> np.ndarray:
    pts = [p.split() for p in text.split(',')]
    if any(len(p) < 2 for p in pts):
        raise ValueError(f'bad WKT ring {text[:60]!r}')
    return np.array([[float(p[0]), float(p[1])] for p in pts], dtype=np.float64)


def parse_wkt_polygons(wkt: str) -> List[List[np.ndarray]]:
    """``POLYGON`` / ``MULTIPOLYGON`` WKT -> list of polygons, each a list of rings.

    Each ring is an ``(N, 2)`` float array of ``(x, y)``; the first ring of a polygon is its
    outer boundary and the others are holes.
    """
    s = wkt.strip()
    head = s.split('(', 1)[0].strip().upper()
    if head not in ('POLYGON', 'MULTIPOLYGON') or '(' not in s:
        raise ValueError(f'unsupported WKT geometry {s[:40]!r} (POLYGON or MULTIPOLYGON)')
    body = s[s.index('(') :]
    if head == 'POLYGON':
        groups = [body[1:-1]]
    else:
        groups = re.findall(r'\(\s*(\(.*?\)(?:\s*,\s*\(.*?\))*)\s*\)', body[1:-1])
    polys = []
    for g in groups:
        rings = [_ring(r) for r in re.findall(r'\(([^()]*)\)', g)]
        if not rings:
            raise ValueError(f'empty polygon in WKT {s[:60]!r}')
        polys.append(rings)
    return polys


def rasterize_polygons(
    shapes: List[Tuple[List[List[np.ndarray]], int]], height: int, width: int, fill: int = 0
) -> np.ndarray:
    """Rasterize ``[(polygons, value), ...]`` into an ``(H, W)`` uint8 mask.

    ``polygons`` is the output of :func:`parse_wkt_polygons`; holes get ``fill`` back.
    """
    out = np.full((height, width), fill, dtype=np.uint8)
    for polys, value in shapes:
        for rings in polys:
            rr, cc = draw_polygon(rings[0][:, 1], rings[0][:, 0], (height, width))
            out[rr, cc] = value
            for hole in rings[1:]:
                rr, cc = draw_polygon(hole[:, 1], hole[:, 0], (height, width))
                out[rr, cc] = fill
    return out


def load_xbd_label(path: str) -> dict:
    """Read a label JSON; raise one error naming the file when it is missing or malformed."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'xBD label file not found: {path}')
    try:
        with open(path) as f:
            label = json.load(f)
        label['features']['xy']
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f'malformed xBD label file {path}: {e!r}') from e
    return label


def xbd_label_to_mask(
    label: dict, height: int, width: int, task: str = 'building', source: Optional[str] = None
) -> Tuple[np.ndarray, Dict[str, int]]:
    """Rasterize the buildings of an xBD label dict into an index mask ``(H, W)`` uint8.

    Args:
        label: the parsed label JSON.
        height / width: mask size (the image size).
        task: ``'building'`` (0 background, 1 building) or ``'damage'`` (0 background,
            1..4 no/minor/major damage, destroyed; un-classified -> 255).
        source: file name used in error messages.

    Returns:
        ``(mask, counts)``: counts of rasterized polygons per subtype (``'building'`` for
        the building task).
    """
    if task not in ('building', 'damage'):
        raise ValueError(f"task must be 'building' or 'damage', got {task!r}")
    shapes, counts = [], {}
    for k, feat in enumerate(label['features']['xy']):
        props = feat.get('properties', {})
        if props.get('feature_type', 'building') != 'building':
            continue
        if task == 'building':
            key, value = 'building', 1
        else:
            key = props.get('subtype')
            if key not in XBD_DAMAGE_INDEX:
                raise ValueError(
                    f'{source or "label"}: feature {k} has damage subtype {key!r}, '
                    f'expected one of {sorted(XBD_DAMAGE_INDEX)}'
                )
            value = XBD_DAMAGE_INDEX[key]
        try:
            polys = parse_wkt_polygons(feat['wkt'])
        except (KeyError, ValueError) as e:
            raise ValueError(f'{source or "label"}: feature {k} has a bad wkt: {e}') from e
        shapes.append((polys, value))
        counts[key] = counts.get(key, 0) + 1
    return rasterize_polygons(shapes, height, width), counts
