"""Reusable Textual widgets for Bosun's screen. They never import `app`."""
