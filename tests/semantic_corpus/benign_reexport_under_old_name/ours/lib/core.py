"""The library's core."""


def read_config(path):
    return {"path": path}
