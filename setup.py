"""grass_mm: contrastive learning for remote-sensing semantic segmentation, as an OpenMMLab plugin."""

import os.path as osp

from setuptools import find_packages, setup


def get_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'grass_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def readme():
    with open(osp.join(osp.dirname(__file__), 'README.md'), encoding='utf-8') as f:
        return f.read()


install_requires = [
    'torch>=2.0',
    'torchvision>=0.15',
    'mmengine>=0.10.0,<0.11.0',
    # mmsegmentation 1.2.2 asserts mmcv < 2.2.0; tools/install.sh compiles 2.1.0 with its ops.
    'mmcv>=2.0.0,<2.2.0',
    'mmsegmentation>=1.2.0,<1.3.0',
    'mmpretrain>=1.2.0,<1.3.0',
    'numpy>=1.23',
    'scipy>=1.9',
    'scikit-image>=0.21',
    'matplotlib>=3.6',
    'Pillow>=9.0',
    'opencv-python-headless>=4.6',
    'tqdm>=4.60',
    # imported by mmseg (tokenizers of its text models) without being declared by it
    'ftfy>=6.0',
    'regex>=2022.1.18',
]

setup(
    name='grass_mm',
    version=get_version(),
    description='GraSS and segmentation-side contrastive learning for remote sensing, as an OpenMMLab plugin',
    long_description=readme() if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    python_requires='>=3.10',  # zip(..., strict=True); torch 2.14 needs 3.10 too
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    # the CC0 demo imagery (grass_mm/demo/README.md) ships with the package
    package_data={'grass_mm': ['demo/README.md', 'demo/dubai_aerial/*/*/*']},
    install_requires=install_requires,
    extras_require={
        'tests': ['pytest>=7.0', 'pytest-timeout>=2.1'],
        'mim': ['openmim==0.3.9'],
    },
    license='Apache-2.0',
    # the Apache-2.0 text (it names the CC0 exception of the demo imagery, grass_mm/demo/README.md)
    license_files=['LICENSE'],
    zip_safe=False,
)
