"""A witness: a small independent service that cosigns the log's checkpoints while it only grows."""
