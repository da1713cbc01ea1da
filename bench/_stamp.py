"""A barcode of a millisecond along the top edge of a frame, and the same reader in JavaScript.

44 blocks of 24×24 pixels from the left: a white and a black block to calibrate, then 42 bits
of the Unix time in milliseconds, most significant first (white = 1). Blocks this large come
through H.264, VP8 and JPEG at any quality a live view uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BLOCK = 24
#: The width of the picture the strip is drawn on.
WIDTH = 1280
BITS = 42
BAR_HEIGHT = BLOCK


def stamp(image: np.ndarray[Any, Any], millis: int) -> None:
    """Draw ``millis`` into the top-left strip of a BGR ``image`` in place."""
    image[:BLOCK, :BLOCK] = 255
    image[:BLOCK, BLOCK : 2 * BLOCK] = 0
    for bit in range(BITS):
        on = (millis >> (BITS - 1 - bit)) & 1
        x = (bit + 2) * BLOCK
        image[:BLOCK, x : x + BLOCK] = 255 if on else 0


def read(image: np.ndarray[Any, Any]) -> int:
    """The millisecond drawn by ``stamp`` (for checking the barcode survives a codec)."""
    gray = image.mean(axis=2) if image.ndim == 3 else image
    centre = BLOCK // 2
    white, black = float(gray[centre, centre]), float(gray[centre, BLOCK + centre])
    threshold = (white + black) / 2
    value = 0
    for bit in range(BITS):
        value = (value << 1) | int(gray[centre, (bit + 2) * BLOCK + centre] > threshold)
    return value


#: Defines ``window.__readStamp(source, width, height)`` in a page: the millisecond in a frame.
READER_JS = f"""
(() => {{
  const BLOCK = {BLOCK}, BITS = {BITS};
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', {{willReadFrequently: true}});
  window.__readStamp = (source, width, height) => {{
    if (!width || !height) return null;
    // The strip was drawn on a {WIDTH}-wide picture; a stream may carry it scaled down.
    const scale = width / {WIDTH};
    canvas.width = (BITS + 2) * BLOCK; canvas.height = BLOCK;
    ctx.drawImage(source, 0, 0, canvas.width * scale, BLOCK * scale, 0, 0, canvas.width, BLOCK);
    const px = ctx.getImageData(0, 0, canvas.width, BLOCK).data;
    const at = (i) => {{
      const o = ((BLOCK >> 1) * canvas.width + i * BLOCK + (BLOCK >> 1)) * 4;
      return (px[o] + px[o + 1] + px[o + 2]) / 3;
    }};
    const white = at(0), black = at(1);
    if (white - black < 64) return null;
    const threshold = (white + black) / 2;
    let value = 0;
    for (let bit = 0; bit < BITS; bit++) value = value * 2 + (at(bit + 2) > threshold ? 1 : 0);
    return value;
  }};
}})();
"""
