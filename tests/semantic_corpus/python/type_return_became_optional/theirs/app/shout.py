from app.find import find


def shout(key: str) -> str:
    return find(key).upper()
