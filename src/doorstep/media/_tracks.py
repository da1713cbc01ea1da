"""Carry face boxes between detector runs so a face stays covered when a frame misses it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from doorstep.media._faces import Boxes, iou_matrix

Box = npt.NDArray[np.float32]
"""One (x1, y1, x2, y2) row in pixels."""


@dataclass(slots=True)
class FaceTrack:
    """Where one face was last seen and how fast its box was moving (pixels per frame)."""

    number: int
    box: Box
    last_seen: int
    first_seen: int
    hits: int = 1
    velocity: Box = field(default_factory=lambda: np.zeros(4, np.float32))

    def predicted(self, index: int) -> Box:
        """Where the box should be on frame ``index``, moving on at its last speed."""
        return self.box + self.velocity * np.float32(index - self.last_seen)


class FaceTracker:
    """Match detections to tracks by overlap; hold a lost track for ``hold_frames`` frames."""

    def __init__(self, *, hold_frames: int, match_iou: float = 0.1) -> None:
        self.hold_frames = hold_frames
        self.match_iou = match_iou
        self.tracks: list[FaceTrack] = []
        self.started = 0
        self.born: list[FaceTrack] = []
        """The tracks that began on the last frame updated (for covering frames before it)."""

    def update(
        self,
        index: int,
        detections: Boxes | None,
        weak: npt.NDArray[np.bool_] | None = None,
    ) -> list[FaceTrack]:
        """Advance to frame ``index``; ``detections`` is ``None`` when the detector did not run.

        A ``weak`` detection (too unsure to stand alone) may carry a track on but never starts one.
        """
        self.born = []
        if detections is not None:
            self._match(index, detections, weak)
        self.tracks = [t for t in self.tracks if index - t.last_seen <= self.hold_frames]
        return self.tracks

    def predicted(self, index: int) -> Boxes:
        """Where the tracked faces should be on frame ``index``."""
        if not self.tracks:
            return np.zeros((0, 4), np.float32)
        return np.stack([track.predicted(index) for track in self.tracks])

    def _match(self, index: int, detections: Boxes, weak: npt.NDArray[np.bool_] | None) -> None:
        unmatched = set(range(len(detections)))
        if self.tracks and len(detections):
            overlaps = iou_matrix(self.predicted(index), detections)
            pairs = np.argwhere(overlaps >= self.match_iou)
            order = np.argsort(-overlaps[pairs[:, 0], pairs[:, 1]])
            used_tracks: set[int] = set()
            for track_at, found_at in pairs[order]:
                if track_at in used_tracks or found_at not in unmatched:
                    continue
                used_tracks.add(int(track_at))
                unmatched.discard(int(found_at))
                self._follow(self.tracks[track_at], index, detections[found_at])
        for found_at in sorted(unmatched):
            if weak is not None and weak[found_at]:
                continue
            self.started += 1
            track = FaceTrack(
                self.started, detections[found_at].copy(), last_seen=index, first_seen=index
            )
            self.tracks.append(track)
            self.born.append(track)

    @staticmethod
    def _follow(track: FaceTrack, index: int, box: Box) -> None:
        gap = max(1, index - track.last_seen)
        speed = (box - track.box) / np.float32(gap)
        # Smooth the speed: detector boxes jitter by a few pixels from frame to frame.
        weight = np.float32(1.0 if track.hits == 1 else 0.5)
        track.velocity = (weight * speed + (1 - weight) * track.velocity).astype(np.float32)
        track.hits += 1
        track.box = box.copy()
        track.last_seen = index
