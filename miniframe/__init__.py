"""miniframe: a from-scratch deep-learning framework on PyTorch tensors, and its terminal trainer.

The framework lives in :mod:`miniframe.engine`, the trainer in :mod:`miniframe.tui`.
Importing this package imports nothing heavy (no torch), so the trainer paints fast.
"""

__version__ = "0.1.0"
