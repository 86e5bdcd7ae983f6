"""Screens: the main layout and the dialogs."""
