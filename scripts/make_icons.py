"""Draw Doorstep's app icons (PNG) from the mark in src/doorstep/static/favicon.svg.

The mark is a door (a rounded rectangle), its round window and its bell push, on a 32-unit grid.
Browsers and phones want bitmaps in fixed sizes for an installed app; this draws them with numpy
(4x4 supersampling for smooth edges) and writes plain PNG files, so no image library is needed:

    .venv/bin/python scripts/make_icons.py [--out FOLDER]

The files are committed under src/doorstep/static/icons/; tests check they are what this draws.
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

import numpy as np

ICONS = Path(__file__).resolve().parents[1] / "src" / "doorstep" / "static" / "icons"
SUPERSAMPLE = 4
# The colours of favicon.svg and doorstep.css (--brand, the window, --accent, --paper).
BRAND = (0x1F, 0x4E, 0x5F)
WINDOW = (0xF4, 0xEF, 0xE6)
ACCENT = (0xE0, 0xA5, 0x26)
PAPER = (0xF7, 0xF5, 0xF0)

#: name -> (pixels, background or None for transparent, share of the icon the 32-unit grid fills).
#: A maskable icon is cropped to a circle of 80% of its width by some launchers: its mark is
#: smaller and its background reaches every edge. iOS paints a transparent touch icon black.
VARIANTS: dict[str, tuple[int, tuple[int, int, int] | None, float]] = {
    "icon-192.png": (192, None, 1.0),
    "icon-512.png": (512, None, 1.0),
    "maskable-512.png": (512, PAPER, 0.62),
    "apple-touch-icon-180.png": (180, PAPER, 0.86),
}


def _grid(pixels: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample positions in the mark's 32-unit coordinates, centred in the icon."""
    samples = pixels * SUPERSAMPLE
    step = 32.0 / (samples * share)
    offset = 16.0 - step * samples / 2
    axis = offset + (np.arange(samples) + 0.5) * step
    return np.meshgrid(axis, axis)


def _rounded_rect(
    x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float], radius: float
) -> np.ndarray:
    left, top, width, height = box
    cx, cy, hw, hh = left + width / 2, top + height / 2, width / 2, height / 2
    dx = np.maximum(np.abs(x - cx) - (hw - radius), 0)
    dy = np.maximum(np.abs(y - cy) - (hh - radius), 0)
    inside: np.ndarray = (np.abs(x - cx) <= hw) & (np.abs(y - cy) <= hh)
    return inside & (dx**2 + dy**2 <= radius**2)


def _circle(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    return (x - cx) ** 2 + (y - cy) ** 2 <= r**2


def draw(pixels: int, background: tuple[int, int, int] | None, share: float) -> np.ndarray:
    """The icon as an RGBA array (``pixels`` square)."""
    x, y = _grid(pixels, share)
    rgb = np.zeros((*x.shape, 3))
    alpha = np.zeros(x.shape)
    if background is not None:
        rgb[:] = background
        alpha[:] = 1.0
    shapes = (
        (_rounded_rect(x, y, (6, 3, 20, 26), 5), BRAND),
        (_circle(x, y, 16, 12, 5), WINDOW),
        (_circle(x, y, 16, 23, 2.5), ACCENT),
    )
    for mask, colour in shapes:
        rgb[mask] = colour
        alpha[mask] = 1.0
    # Average the samples of each pixel, weighting colour by coverage (premultiplied alpha).
    shape = (pixels, SUPERSAMPLE, pixels, SUPERSAMPLE)
    covered = alpha.reshape(shape).mean(axis=(1, 3))
    summed = (rgb * alpha[..., None]).reshape((*shape, 3)).mean(axis=(1, 3))
    colour = np.where(covered[..., None] > 0, summed / np.maximum(covered, 1e-9)[..., None], 0)
    out = np.dstack([np.rint(colour), np.rint(covered * 255)])
    return np.clip(out, 0, 255).astype(np.uint8)


def png(image: np.ndarray) -> bytes:
    """Encode an RGBA array as a PNG file (8-bit, no filter, deterministic)."""
    height, width, _ = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main(argv: list[str] | None = None) -> int:
    """Write every icon into the folder (the package's icons folder unless ``--out``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ICONS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (pixels, background, share) in VARIANTS.items():
        (args.out / name).write_bytes(png(draw(pixels, background, share)))
        print(f"wrote {args.out / name} ({pixels}x{pixels})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
