class User:
    def __init__(self, name):
        self.name = name


def make(name):
    return User(name)
