import numpy as np
import pytest

from doorstep.errors import InvalidInput
from doorstep.media.zones import Zone, blackout, motion_mask, parse_zone, privacy_mask


def test_parse_normalised_zone() -> None:
    zone = parse_zone("0,0 0.5,0 0.5,1")
    assert zone.points == ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0))


def test_parse_pixel_zone_uses_frame_size() -> None:
    zone = parse_zone("0,0 160,0 160,240", frame_size=(320, 240))
    assert zone.points == ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,0 1,1", "at least 3 points"),
        ("0,0 1,0 nan,1", "finite"),
        ("0,0 0.5,0.5 1,1", "zero area"),
        ("0,0 1;0 1,1", "x,y"),
        ("0,0 a,0 1,1", "two numbers"),
        ("0,0 -0.5,0 1,1", "negative"),
        ("0,0 10,0 10,10", "frame size is unknown"),
    ],
)
def test_bad_zone_is_refused_with_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_zone(text)


def test_zone_outside_frame_is_refused() -> None:
    with pytest.raises(InvalidInput, match="outside the frame"):
        parse_zone("0,0 400,0 400,240", frame_size=(320, 240))


def test_motion_mask_is_whole_frame_without_zones() -> None:
    mask = motion_mask((), (), 40, 30)
    assert int(mask.min()) == 255


def test_motion_mask_excludes_privacy_zones() -> None:
    left = Zone(((0, 0), (0.5, 0), (0.5, 1), (0, 1)))
    top = Zone(((0, 0), (1, 0), (1, 0.5), (0, 0.5)))
    mask = motion_mask((left,), (top,), 40, 40)
    assert mask[30, 5] == 255
    assert mask[5, 5] == 0
    assert mask[30, 35] == 0


def test_blackout_zeroes_privacy_pixels_in_place() -> None:
    frame = np.full((40, 40, 3), 200, dtype=np.uint8)
    top = Zone(((0, 0), (1, 0), (1, 0.5), (0, 0.5)))
    blackout(frame, privacy_mask((top,), 40, 40))
    assert int(frame[:15].max()) == 0
    assert int(frame[25:].min()) == 200
