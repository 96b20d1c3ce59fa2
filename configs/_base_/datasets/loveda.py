# LoveDA Urban + Rural together, each read from its own domain folder (written by
# tools/dataset_converters/loveda_domains.py) and concatenated, so that the union and
# the single-domain configs see exactly the same files.
_base_ = ['./loveda_urban.py']
urban_root = 'data/loveDA_domains/urban'
rural_root = 'data/loveDA_domains/rural'
dataset_type = 'ConcatDataset'
data_root = 'data/loveDA_domains'


def _split(split, pipeline):
    return dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='LoveDAUrbanDataset',
                data_root=urban_root,
                data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
                pipeline=pipeline,
            ),
            dict(
                type='LoveDARuralDataset',
                data_root=rural_root,
                data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
                pipeline=pipeline,
            ),
        ],
    )


train_dataloader = dict(dataset=dict(_delete_=True, **_split('train', {{_base_.train_pipeline}})))
val_dataloader = dict(dataset=dict(_delete_=True, **_split('val', {{_base_.test_pipeline}})))
test_dataloader = val_dataloader
del _split
