from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmseg.registry import TRANSFORMS

from ..rs_io import CorruptImageError, check_on_corrupt, image_file_problem, skip_corrupt


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """:class:`mmcv.transforms.LoadImageFromFile` that stops on a corrupt image with one line naming it.

    mmcv fails on an undecodable file with a bare ``AssertionError`` deep in a traceback, and some
    OpenCV builds decode a truncated JPEG into a partly grey image with only a warning. Here an empty, truncated
    (PNG without ``IEND``, JPEG without end-of-image marker) or undecodable file raises
    :class:`~grass_mm.datasets.rs_io.CorruptImageError` ("corrupt or truncated image file 'PATH':
    why"), which ``tools/train.py`` / ``tools/test.py`` print as one line, or, with
    ``on_corrupt='skip'``, is skipped with one warning per file (training draws another sample).
    A missing file still raises ``FileNotFoundError``.

    Required keys: ``img_path``. Added keys: ``img`` (``(H, W, 3)`` uint8, BGR by default),
    ``img_shape``, ``ori_shape``.

    Args:
        on_corrupt (str): ``'error'`` (default) or ``'skip'``.
        **kwargs: the arguments of :class:`~mmcv.transforms.LoadImageFromFile`.
    """

    def __init__(self, on_corrupt: str = 'error', **kwargs) -> None:
        super().__init__(**kwargs)
        self.on_corrupt = check_on_corrupt(on_corrupt)
        self._warned = set()

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        problem = image_file_problem(path, self.backend_args)
        if problem is None:
            try:
                return super().transform(results)
            except Exception as e:  # noqa: BLE001 - any decoder failure, re-raised with the file name
                problem = (
                    f'the decoder could not read it ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""})'
                )
        if self.on_corrupt == 'skip':
            return skip_corrupt(path, problem, self._warned)
        raise CorruptImageError(f"corrupt or truncated image file '{path}': {problem}")

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", on_corrupt='{self.on_corrupt}')"
