from .settings import Config


def level():
    return "debug" if Config.DEBUG else "info"
