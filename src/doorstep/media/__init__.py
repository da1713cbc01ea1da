"""Video sources, privacy zones, motion detection, event recording and offline scans."""
