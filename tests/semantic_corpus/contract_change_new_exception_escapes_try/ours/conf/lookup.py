"""Settings lookup."""

SETTINGS = {"mode": "fast"}


def setting(name):
    if name.startswith("_"):
        raise LookupError(f"private setting {name}")
    value = SETTINGS.get(name)
    if value is None:
        raise ValueError(f"no setting {name}")
    return value
