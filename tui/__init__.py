"""miniframe-tui: the terminal trainer (Textual). Importing it must not import torch."""
