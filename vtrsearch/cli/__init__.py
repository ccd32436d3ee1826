"""The ``vtrsearch`` command: :mod:`.main` builds the parser; one module per command group."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
