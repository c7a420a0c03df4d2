class User:
    def __init__(self, name):
        self.full_name = name


def make(name):
    return User(name)
