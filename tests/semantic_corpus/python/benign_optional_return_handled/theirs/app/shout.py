from app.find import find


def shout(key: str) -> str:
    name = find(key)
    return name.upper() if name is not None else ''
