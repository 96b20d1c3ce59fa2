"""The quickstart: the main job in one call, a preset of the sweep (same configs, same steps, same report).

1. data: the CC0 Dubai tiles shipped in the package (tile 6 held out), ``--data``, ``--dataset-config`` or the
   synthetic VTS set;
2.-4. pretraining (SimCLR and GraSS), fine-tuning from each checkpoint and from random initialisation under the
   chosen protocols, evaluation (:func:`grass_mm.experiments.sweep.run_sweep`), prediction pictures;
5. Loss Attention Maps and DARs of the GraSS checkpoint (``tools/visualize_lam.py``), the report
   (``results.md``/``.csv``/``.png``) and ``README.md``.

Its work dir is owned (a marker ``.grass_mm_quickstart``): every input is checked before anything is written, and
``--overwrite`` removes only what an earlier quickstart wrote.
"""

import glob
import os
import os.path as osp
import shutil
import time

from .configs import check_backbones, load_config
from .data import data_roots, prepare_data, prepare_vts, split_images
from .settings import QuickstartSettings, SweepError
from .steps import tool_command
from .sweep import check_device, run_sweep, write_outputs
from .work_dir import check_inputs_kept, check_quickstart_dir, check_reuse, inside, prepare_quickstart_dir


def quickstart_data(s: QuickstartSettings, work_dir: str) -> dict:
    """The data of the quickstart: VTS (written into ``work_dir``) or the sweep's."""
    return prepare_vts(s, work_dir) if s.vts else prepare_data(s, work_dir)


def check_dataset_config(s: QuickstartSettings) -> None:
    """``--dataset-config`` reads (one line naming the file if not); the parse is cached for the runner."""
    if not s.dataset_config or not osp.isfile(s.dataset_config):
        return  # a missing file: the runner's own message
    try:
        load_config(s.dataset_config)
    except Exception as err:  # noqa: BLE001  (syntax errors, missing _base_ files, ...)
        first = (str(err).strip().splitlines() or [''])[0]
        raise SweepError(f"cannot read --dataset-config '{s.dataset_config}': {type(err).__name__}: {first}") from None


def prepare_inputs(s: QuickstartSettings, work_dir: str) -> bool:
    """Check every input, then (and only then) set up ``work_dir``; returns ``earlier`` (an earlier
    quickstart's outputs were replaced).

    Data that must be converted or generated is written into a temporary sibling of ``work_dir``
    first and moved in at the end, so a bad input leaves ``work_dir`` exactly as it was.
    """
    from grass_mm.runtime.outputs import staged_dir

    work_dir = osp.abspath(work_dir)
    earlier = check_quickstart_dir(work_dir, s.overwrite)
    check_dataset_config(s)
    if s.reuse_pretraining:
        check_reuse(s)
    with staged_dir(work_dir) as stage:
        data = quickstart_data(s, stage)
        check_backbones(s, data)
        if not split_images(data['seg'], 'val'):
            raise SweepError('the validation set has no images')
        if earlier:
            roots = [r for r in data_roots(data) if r and not inside(r, stage)]
            check_inputs_kept(work_dir, [s.data, s.dataset_config, s.reuse_pretraining] + roots)
    try:
        prepare_quickstart_dir(work_dir, s.overwrite)
        for name in os.listdir(stage):
            os.rename(osp.join(stage, name), osp.join(work_dir, name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return earlier


def run(s: QuickstartSettings) -> None:
    """Run the quickstart of the settings ``s`` into its (new, empty or earlier quickstart's) work dir."""
    s.check()
    check_device(s.device)
    work_dir = osp.abspath(s.work_dir)
    t0 = time.time()
    if prepare_inputs(s, work_dir):
        print(f'[quickstart] replaced the outputs of an earlier quickstart in {work_dir}', flush=True)
    data = quickstart_data(s, work_dir)  # the converted data now lies in work_dir: nothing is written
    val_imgs = split_images(data['seg'], 'val')

    # 2.-4. pretraining, fine-tuning and evaluation of every (method, protocol, fraction, seed); the runs with the
    # most labels (first seed, full fine-tuning if run) draw their validation predictions
    protocol = 'full' if 'full' in s.protocols else s.protocols[0]
    pictures = dict(
        key=(protocol, max(s.fractions), s.seeds[0]),
        interval=max(1, len(val_imgs) // s.num_pictures),
    )
    records, pretrain, steps = run_sweep(s, work_dir, data, steps_extra=1, pictures=pictures)
    seed = s.seeds[0]
    for r in records:
        if (r['protocol'], r['fraction'], r['seed']) == pictures['key']:
            show = osp.join(work_dir, 'pictures', 'predictions', r['method'].lower())
            os.makedirs(show, exist_ok=True)
            for png in glob.glob(osp.join(r['work_dir'], '*', 'vis_data', 'vis_image', '*.png')):
                shutil.copy(png, show)

    # Loss Attention Maps of the GraSS checkpoint on validation images (the loss needs >= 2 images)
    lam_imgs = val_imgs[: max(2, s.num_pictures)]
    if len(lam_imgs) < 2:
        lam_imgs = (lam_imgs + split_images(data['seg'], 'train'))[: max(2, s.num_pictures)]
    lam_dir = osp.join(work_dir, 'pictures', 'lam')
    grass_cfg, grass_ckpt = pretrain[('GraSS', seed)]
    lam = [grass_cfg, grass_ckpt, *lam_imgs, '--out', lam_dir, '--grid', osp.join(work_dir, 'lam_dar.png')]
    steps.run(
        'Loss Attention Maps and DARs of the GraSS checkpoint',
        tool_command('visualize_lam.py', *lam, '--size', str(s.size), '--device', s.device),
        osp.join(lam_dir, 'stdout.log'),
        'test',
    )

    # 5. the table
    title = f'{data["name"]}, {s.decoder.upper()}-R{s.depth}'
    md = write_outputs(records, work_dir, s, pretrain, title=title)
    with open(osp.join(work_dir, 'README.md'), 'w') as f:
        f.write(
            f'# grass_mm quickstart on {data["name"]}\n\n{md}\n'
            f'Settings: ResNet-{s.depth}, {s.decoder.upper()}, pretraining {s.pretrain_iters} '
            f'iterations x {s.batch} images, fine-tuning {s.finetune_iters} iterations x '
            f'{s.seg_batch} images, {s.size} px, seeds {s.seeds}, label fractions '
            f'{s.fractions}, device {s.device}.\n'
        )
    print('\n' + md)
    preds = sorted(glob.glob(osp.join(work_dir, 'pictures', 'predictions', '**', '*.png'), recursive=True))
    print(
        f'done in {time.time() - t0:.0f} s. Written to {work_dir}:\n'
        f'  results.md, results.csv   mIoU / OA = aAcc / mAcc (%) per run (mean ± 95% interval with several seeds),\n'
        f'                            paired gains over random init and GraSS - SimCLR, pretraining losses\n'
        f'  results.png               mIoU vs label fraction, one panel per protocol\n'
        f'  lam_dar.png               Loss Attention Maps + DAR boxes of the GraSS checkpoint '
        f'(one PNG per image in pictures/lam/)\n'
        f'  pictures/predictions/     {len(preds)} prediction pictures (ground truth | prediction, over the image)\n'
        f'  configs/, commands.sh     the configs and the exact commands that were run\n'
        f'  pretrain/, finetune/      mmengine work dirs (logs, checkpoints)'
    )
