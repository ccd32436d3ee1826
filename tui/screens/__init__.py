"""Views of the TUI: search, evaluation, help."""
