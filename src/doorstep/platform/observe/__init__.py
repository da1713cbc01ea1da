"""What Doorstep tells its operator (logs, traces, metrics), and nothing it should not."""
