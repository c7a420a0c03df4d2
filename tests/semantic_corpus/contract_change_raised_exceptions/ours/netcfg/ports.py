"""Port numbers."""


class PortError(Exception):
    pass


def parse_port(text):
    port = int(text)
    if not 0 < port < 65536:
        raise PortError(f"port out of range: {port}")
    return port
