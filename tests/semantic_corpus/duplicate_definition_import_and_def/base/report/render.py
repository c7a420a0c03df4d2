"""Rendering of report lines."""
from report.fmt import bold


def title(text):
    return bold(text.upper())


def line(text):
    return text + "\n"
