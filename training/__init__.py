"""Offline side of ros_pointlang: the data engine, models and training loops (torch lives here)."""
