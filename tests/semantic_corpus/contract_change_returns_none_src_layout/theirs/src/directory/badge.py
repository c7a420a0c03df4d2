from .users import find_user


def badge(name):
    return f"#{find_user(name):04d}"
