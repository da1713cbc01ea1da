"""Doorstep: neighbourhood video doorbells that respect the people in front of the camera."""

__version__ = "0.1.0"
