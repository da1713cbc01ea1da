from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from doorstep.media.motion import MotionDetector, MotionSettings
from doorstep.media.recorder import Clip, EventRecorder
from doorstep.media.scan import scan_file
from doorstep.media.source import open_source
from doorstep.media.zones import Zone
from tests.media.conftest import Footage

SETTINGS = MotionSettings(pre_roll_seconds=1.0, post_roll_seconds=2.0)
# The top-right corner where privacy_scene's first square moves (x 200..339, y 10..50).
CORNER = Zone(((0.55, 0.0), (1.0, 0.0), (1.0, 0.3), (0.55, 0.3)))


def record(footage: Footage, clips: Path, **options: object) -> list[Clip]:
    privacy = (CORNER,) if options.get("privacy") else ()
    audio = bool(options.get("audio"))
    with open_source(footage.path, audio=audio, privacy_zones=privacy) as source:
        detector = MotionDetector(
            source.width, source.height, privacy_zones=privacy, settings=SETTINGS
        )
        recorder = EventRecorder(
            rate=source.rate,
            width=source.width,
            height=source.height,
            settings=SETTINGS,
            clips_dir=clips,
            audio_rate=source.audio_rate,
            audio_layout=source.audio_layout,
        )
        finished = [recorder.feed(f, detector.score(f.luma)) for f in source.frames()]
    return [clip for clip in [*finished, recorder.close()] if clip is not None]


def decoded_frames(path: Path) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24").astype(np.uint8) for f in container.decode(video=0)]


def read_jpeg(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path))
    assert image is not None
    return image.astype(np.uint8)


def test_live_recording_writes_one_clip_with_rolls(one_mover: Footage, tmp_path: Path) -> None:
    (clip,) = record(one_mover, tmp_path)
    assert 38 <= clip.event.trigger_frame <= 42
    assert clip.event.start_frame == clip.event.trigger_frame - 10
    assert 59 <= clip.event.last_motion_frame <= 80
    assert clip.event.end_frame == clip.event.last_motion_frame + 20
    assert clip.video is not None
    assert len(decoded_frames(clip.video)) == clip.event.frame_count


def test_clip_is_h264_with_index_before_media(one_mover: Footage, tmp_path: Path) -> None:
    (clip,) = record(one_mover, tmp_path)
    assert clip.video is not None
    data = clip.video.read_bytes()
    with av.open(str(clip.video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
    assert 0 < data.index(b"moov") < data.index(b"mdat")


def test_snapshot_and_metadata_are_written(one_mover: Footage, tmp_path: Path) -> None:
    (clip,) = record(one_mover, tmp_path)
    assert clip.snapshot is not None
    assert clip.metadata is not None
    snapshot = read_jpeg(clip.snapshot)
    assert snapshot.shape == (240, 320, 3)
    assert '"peak_score"' in clip.metadata.read_text()


def test_privacy_zone_never_reaches_clip_or_snapshot(
    privacy_scene: Footage, tmp_path: Path
) -> None:
    (clip,) = record(privacy_scene, tmp_path, privacy=True)
    assert clip.video is not None
    assert clip.snapshot is not None
    # Stay a few pixels inside the zone: the encoder may smear its edge by a pixel or two.
    inside = (slice(4, 68), slice(184, 316))
    frames = decoded_frames(clip.video)
    assert max(int(f[inside].max()) for f in frames) <= 16
    assert int(read_jpeg(clip.snapshot)[inside].max()) <= 16
    assert max(int(f[200:220, 100:300].max()) for f in frames) > 100


def test_motion_only_inside_privacy_zone_never_triggers(
    privacy_scene: Footage,
) -> None:
    cover = Zone(((0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (0.5, 0.5)))
    lower_right = Zone(((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)))
    events = scan_file(
        privacy_scene.path, zones=(lower_right,), privacy_zones=(cover,), settings=SETTINGS
    )
    assert events == []


def test_unmasked_corner_motion_does_trigger(privacy_scene: Footage) -> None:
    lower_right = Zone(((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)))
    assert len(scan_file(privacy_scene.path, zones=(lower_right,), settings=SETTINGS)) == 1


def test_motion_outside_all_motion_zones_never_triggers(one_mover: Footage) -> None:
    right_edge = Zone(((0.8, 0.0), (1.0, 0.0), (1.0, 1.0), (0.8, 1.0)))
    top_strip = Zone(((0.0, 0.0), (1.0, 0.0), (1.0, 0.2), (0.0, 0.2)))
    assert scan_file(one_mover.path, zones=(right_edge, top_strip), settings=SETTINGS) == []


def test_audio_is_left_out_unless_enabled(with_audio: Footage, tmp_path: Path) -> None:
    (silent,) = record(with_audio, tmp_path / "silent")
    (loud,) = record(with_audio, tmp_path / "loud", audio=True)
    assert silent.video is not None
    assert loud.video is not None
    with av.open(str(silent.video)) as container:
        assert len(container.streams.audio) == 0
    with av.open(str(loud.video)) as container:
        (stream,) = container.streams.audio
        assert stream.codec_context.name == "aac"
        samples = sum(f.samples for f in container.decode(audio=0))
    assert samples == pytest.approx(16000 * loud.event.frame_count / 10, rel=0.15)
