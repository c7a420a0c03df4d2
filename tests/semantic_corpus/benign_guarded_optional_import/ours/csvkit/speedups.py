"""Optional fast paths."""


def fast_join(parts):
    return ",".join(parts)
