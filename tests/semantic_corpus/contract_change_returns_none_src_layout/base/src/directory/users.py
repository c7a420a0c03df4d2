"""A user directory."""

USERS = {"ann": 1, "bob": 2}


def find_user(name):
    return USERS[name]
