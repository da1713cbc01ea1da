"""Background work: in-process threads by default; a real task queue when configured."""
