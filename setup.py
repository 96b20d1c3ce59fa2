"""grass_mm: contrastive learning for remote-sensing semantic segmentation, as an OpenMMLab plugin."""

import os
import os.path as osp
import platform
import shutil
import sys
import warnings

from setuptools import find_packages, setup

#: what ``grass_mm/.mim`` holds: mmengine resolves ``grass_mm::`` configs in ``.mim/configs`` (and reads
#: ``.mim/model-index.yml``), ``mim train/test grass_mm`` runs ``.mim/tools/train.py`` / ``test.py``
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def get_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'grass_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def readme():
    with open(osp.join(osp.dirname(__file__), 'README.md'), encoding='utf-8') as f:
        return f.read()


def mim_mode(argv):
    """How :func:`add_mim_extension` adds ``MIM_FILES``: ``'symlink'``, ``'copy'`` or None (nothing to add).

    ``develop`` (``setup.py develop``) and ``editable_wheel`` (``pip install -e .``, PEP 660: the
    package is imported from this checkout) link to the checkout's folders; ``sdist`` and
    ``bdist_wheel`` (``pip install .``, ``pip wheel .``) copy them into the package. Windows copies.
    """
    if 'develop' in argv or 'editable_wheel' in argv:
        return 'copy' if platform.system() == 'Windows' else 'symlink'
    if 'sdist' in argv or 'bdist_wheel' in argv:
        return 'copy'
    return None


def add_mim_extension(mode, filenames=MIM_FILES):
    """Add the files that MIM and mmengine need (``MIM_FILES``) into ``grass_mm/.mim``.

    As in mmsegmentation and mmpretrain: links to the checkout's ``configs``, ``tools`` and
    ``model-index.yml`` for an editable install, copies for a wheel or an sdist.

    Args:
        mode (str | None): ``'symlink'``, ``'copy'`` or None (see :func:`mim_mode`).
        filenames (Sequence[str]): the entries to add; defaults to ``MIM_FILES``.

    Returns:
        list[str]: the entries that were links before a copy replaced them (an editable checkout
        building a wheel); :func:`restore_mim_links` puts them back after the build.
    """
    if mode is None:
        return []
    repo_path = osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'grass_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    replaced_links = []
    for filename in filenames:
        src_path = osp.join(repo_path, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if osp.islink(tar_path):
            if mode == 'copy':
                replaced_links.append(filename)
            os.remove(tar_path)
        elif osp.isfile(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(osp.relpath(src_path, mim_path), tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(src_path, tar_path, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            warnings.warn(f'Cannot copy file {src_path}.', stacklevel=2)
    return replaced_links


def restore_mim_links(filenames):
    """Put back the ``grass_mm/.mim`` links that a wheel or sdist build replaced by copies.

    Without this, a wheel built inside an editable checkout would leave stale copies behind, and
    ``grass_mm::`` configs and ``mim train grass_mm`` would stop following the checkout.
    """
    if filenames:
        add_mim_extension('symlink', filenames)


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

replaced_links = add_mim_extension(mim_mode(sys.argv))
try:
    setup(
        name='grass_mm',
        version=get_version(),
        description='GraSS and segmentation-side contrastive learning for remote sensing, as an OpenMMLab plugin',
        long_description=readme() if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
        long_description_content_type='text/markdown',
        python_requires='>=3.10',  # zip(..., strict=True); torch 2.14 needs 3.10 too
        packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
        include_package_data=True,
        # the CC0 demo imagery (grass_mm/demo/README.md) ships with the package, and so do the configs and
        # tools that add_mim_extension copies into grass_mm/.mim (grass_mm:: configs, mim train grass_mm)
        package_data={
            'grass_mm': [
                'demo/README.md',
                'demo/dubai_aerial/*/*/*',
                '.mim/model-index.yml',
                '.mim/configs/**/*',
                '.mim/tools/**/*',
            ]
        },
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
finally:
    restore_mim_links(replaced_links)
