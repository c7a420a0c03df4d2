"""Low-level formatting."""


def bold(text):
    return f"**{text}**"


def center(text, width=10):
    return text.center(width, ".")
