"""Test settings shared by every test module."""

import os

# Quiet TensorFlow's C++ start-up logging; must happen before it is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(items):
    """Tests marked `slow` run first: with two workers, a long test started
    near the end would keep one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
