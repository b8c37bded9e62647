"""Regie: the `regie` command and what every part shares (version, config loading)."""

__version__ = "0.1.0"
