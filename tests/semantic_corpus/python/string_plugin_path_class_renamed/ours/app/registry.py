import importlib

EXPORTERS = {}


def load(path):
    module, _, name = path.rpartition('.')
    return getattr(importlib.import_module(module), name)
