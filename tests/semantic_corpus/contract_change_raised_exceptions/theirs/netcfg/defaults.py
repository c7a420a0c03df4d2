from netcfg.ports import parse_port


def port_or_default(text, default=8080):
    try:
        return parse_port(text)
    except ValueError:
        return default
