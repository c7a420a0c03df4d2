"""The plugin registry."""

PLUGINS = {}


def register(kind):
    def wrap(cls):
        PLUGINS[kind] = cls
        return cls
    return wrap
