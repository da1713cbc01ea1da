"""The doorbell: a press rings the owner's pages, and the owner answers live over WebRTC."""
