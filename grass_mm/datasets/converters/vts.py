"""Write the VTS set to disk in mmseg layout (plus the noisy twins).

Output::

    {out}/img_dir/{train,val}/{index:06d}.png    clean image
    {out}/ann_dir/{train,val}/{index:06d}.png    class map (0 brick, 1 grass)
    {out}/pair_dir/{train,val}/{index:06d}.png   noisy twin (``r_img`` of the cells re-filled)

Split ``train`` uses ``seed``, split ``val`` uses ``seed + 1``, so the files equal
``vts_sample(seed (+1), index)`` exactly.
"""

import os
import os.path as osp

from mmengine.utils import ProgressBar
from PIL import Image

from ..vts import vts_sample
from .common import staged_output


def write_vts(
    out_dir: str,
    num_train: int = 1000,
    num_val: int = 100,
    seed: int = 0,
    r_img: float = 0.5,
    size: int = 256,
    num_cells: int = 20,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    if num_train < 0 or num_val < 0 or num_train + num_val == 0:
        raise ValueError(f'num_train={num_train}, num_val={num_val}: need at least one sample')
    with staged_output(out_dir, overwrite) as stage:
        bar = ProgressBar(num_train + num_val) if progress else None
        for split, n, s in (('train', num_train, seed), ('val', num_val, seed + 1)):
            for sub in ('img_dir', 'ann_dir', 'pair_dir'):
                os.makedirs(osp.join(stage, sub, split))
            for i in range(n):
                x = vts_sample(s, i, size=size, num_cells=num_cells, r_img=r_img)
                name = f'{i:06d}.png'
                Image.fromarray(x['img']).save(osp.join(stage, 'img_dir', split, name))
                Image.fromarray(x['gt_seg_map']).save(osp.join(stage, 'ann_dir', split, name))
                Image.fromarray(x['noisy_img']).save(osp.join(stage, 'pair_dir', split, name))
                if bar:
                    bar.update()
    return dict(train=num_train, val=num_val)
