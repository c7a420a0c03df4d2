"""Readers, looked up by file suffix."""


class Registry:
    def __init__(self):
        self.readers = {}

    def register(self, suffix, reader):
        self.readers[suffix] = reader

    def reader(self, suffix):
        return self.readers[suffix]


registry = Registry()
