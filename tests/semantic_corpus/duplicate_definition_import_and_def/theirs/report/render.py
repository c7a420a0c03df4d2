"""Rendering of report lines."""
from report.fmt import bold


def title(text):
    return bold(text.upper())


def line(text):
    return text + "\n"


def center(text, width=20):
    return text.center(width)
