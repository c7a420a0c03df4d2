"""Padding."""


def pad(text, size=8):
    return text.ljust(size, ".")
