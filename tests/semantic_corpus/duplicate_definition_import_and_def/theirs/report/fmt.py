"""Low-level formatting."""


def bold(text):
    return f"**{text}**"
