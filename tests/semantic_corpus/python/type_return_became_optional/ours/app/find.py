NAMES = {'a': 'alice'}


def find(key: str) -> str | None:
    return NAMES.get(key)
