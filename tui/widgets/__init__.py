"""Widgets of the TUI: query input, filters, results table, detail pane, metric tables."""
