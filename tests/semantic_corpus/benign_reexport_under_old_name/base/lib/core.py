"""The library's core."""


def load_config(path):
    return {"path": path}
