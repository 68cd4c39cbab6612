"""Test settings shared by every test module."""

import os

# Quiet TensorFlow's C++ start-up logging; must happen before it is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
