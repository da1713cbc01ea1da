"""OpenCV's HOG people detector (no identification): the baseline ``bench/detect.py`` measures.

Events are labelled by ``doorstep.media.detect`` now; this stays to be compared with.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from doorstep.errors import ConfigurationError

PERSON = "person"


class PersonDetector:
    """Find whole standing people in a few sampled BGR frames; says only whether any were seen."""

    def __init__(self, *, analysis_width: int = 800, min_weight: float = 0.3) -> None:
        try:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(
                np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32)
            )
        except (AttributeError, cv2.error) as err:
            raise ConfigurationError(
                "this OpenCV build has no HOG people detector; install the contrib build"
            ) from err
        self.analysis_width = analysis_width
        self.min_weight = min_weight

    def count(self, image: npt.NDArray[np.uint8]) -> int:
        """Return how many people the detector is confident about in one BGR frame."""
        height, width = image.shape[:2]
        if width > self.analysis_width:
            scale = self.analysis_width / width
            image = cv2.resize(
                image, (self.analysis_width, round(height * scale)), interpolation=cv2.INTER_AREA
            ).astype(np.uint8, copy=False)
        _boxes, weights = self._hog.detectMultiScale(
            image, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        return int(np.count_nonzero(np.asarray(weights).reshape(-1) >= self.min_weight))

    def __call__(self, images: Sequence[npt.NDArray[np.uint8]]) -> tuple[str, ...]:
        """Label a set of frames from one event: ``("person",)`` if any frame shows one."""
        return (PERSON,) if any(self.count(image) > 0 for image in images) else ()
