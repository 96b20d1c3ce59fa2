from typing import Optional

from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..rs_io import CorruptImageError, check_on_corrupt, image_file_problem, skip_corrupt


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """mmseg's :class:`~mmseg.datasets.transforms.LoadAnnotations` that names a corrupt mask file.

    An empty, truncated or undecodable segmentation map raises
    :class:`~grass_mm.datasets.rs_io.CorruptImageError` ("corrupt or truncated segmentation map
    'PATH': why", one line in ``tools/train.py``), or with ``on_corrupt='skip'`` the sample is
    skipped with one warning per file. See :class:`CheckedLoadImageFromFile`.

    Required keys: ``seg_map_path``, ``reduce_zero_label``. Added keys: ``gt_seg_map`` ``(H, W)``
    uint8, ``seg_fields``.

    Args:
        on_corrupt (str): ``'error'`` (default) or ``'skip'``.
        **kwargs: the arguments of mmseg's ``LoadAnnotations``.
    """

    def __init__(self, on_corrupt: str = 'error', **kwargs) -> None:
        super().__init__(**kwargs)
        self.on_corrupt = check_on_corrupt(on_corrupt)
        self._warned = set()

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        problem = image_file_problem(path, self.backend_args)
        if problem is None:
            try:
                return super()._load_seg_map(results)
            except Exception as e:  # noqa: BLE001 - any decoder failure, re-raised with the file name
                problem = (
                    f'the decoder could not read it ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""})'
                )
        raise CorruptImageError(f"corrupt or truncated segmentation map '{path}': {problem}")

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except CorruptImageError as e:
            if self.on_corrupt == 'skip':
                return skip_corrupt(results['seg_map_path'], str(e).split("': ", 1)[-1], self._warned)
            raise

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", on_corrupt='{self.on_corrupt}')"
