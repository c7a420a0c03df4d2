"""Padding."""


def pad(text, width=8):
    return text.ljust(width, ".")
