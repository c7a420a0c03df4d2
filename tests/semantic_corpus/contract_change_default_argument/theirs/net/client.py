"""Connections."""


def connect(host, timeout=10):
    if timeout is None:
        return f"{host} (no timeout)"
    return f"{host} ({timeout}s)"
