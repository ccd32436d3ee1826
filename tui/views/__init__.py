"""The two tab panes of the app: search and evaluation (containers, not Screens).

They live side by side in one ``TabbedContent`` so both keep their state while the user
switches tabs; the only real screen is the modal :class:`~vtrsearch.tui.help.HelpScreen`.
"""
