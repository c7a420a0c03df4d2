"""Port numbers."""


def parse_port(text):
    if not isinstance(text, str):
        raise TypeError("text expected")
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return port
