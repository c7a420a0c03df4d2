"""Connections."""


def connect(host, timeout=None):
    if timeout is None:
        return f"{host} (no timeout)"
    return f"{host} ({timeout}s)"
