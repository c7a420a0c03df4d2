from lib import load_config


def start(path):
    return sorted(load_config(path))
