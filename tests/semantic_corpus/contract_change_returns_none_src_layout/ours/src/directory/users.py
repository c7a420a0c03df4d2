"""A user directory."""

USERS = {"ann": 1, "bob": 2}


def find_user(name):
    if name not in USERS:
        return None
    return USERS[name]
