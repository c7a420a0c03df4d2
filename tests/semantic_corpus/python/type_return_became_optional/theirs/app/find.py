NAMES = {'a': 'alice'}


def find(key: str) -> str:
    return NAMES[key]
