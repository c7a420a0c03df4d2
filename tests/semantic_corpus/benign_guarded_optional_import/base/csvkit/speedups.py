"""Optional fast paths."""


def fast_split(text):
    return text.split(",")


def fast_join(parts):
    return ",".join(parts)
