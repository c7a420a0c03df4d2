"""An in-memory cache."""


class Cache:
    def __init__(self):
        self.data = {}

    def _key(self, name):
        return name.lower()

    def put(self, name, value):
        self.data[self._key(name)] = value

    def get(self, name):
        return self.data.get(self._key(name))

    def size(self):
        return len(self.data)
