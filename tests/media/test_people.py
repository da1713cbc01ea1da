import os
from pathlib import Path

import pytest

from doorstep.media.motion import MotionSettings
from doorstep.media.people import PERSON
from doorstep.media.scan import scan_file

FOOTAGE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "video"
    / "one-by-one-person-detection.mp4"
)


@pytest.fixture
def real_footage() -> Path:
    if not FOOTAGE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared footage at {FOOTAGE}")
        pytest.skip(f"shared footage not found at {FOOTAGE}")
    return FOOTAGE


def test_people_are_labelled_in_real_footage(real_footage: Path) -> None:
    events = scan_file(real_footage, settings=MotionSettings(), people=True)
    assert len(events) >= 2
    assert any(PERSON in event.labels for event in events)
