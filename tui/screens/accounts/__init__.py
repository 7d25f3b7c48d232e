"""The accounts section: the screen (``screen``), its checks (``verify_runner``) and its delete
flow (``delete_flow``); the table is the widget ``tui.widgets.accounts_table``."""

from tui.screens.accounts.screen import AccountsScreen

__all__ = ["AccountsScreen"]
