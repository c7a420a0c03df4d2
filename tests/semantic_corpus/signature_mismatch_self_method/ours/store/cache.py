"""An in-memory cache."""


class Cache:
    def __init__(self):
        self.data = {}

    def _key(self, namespace, name):
        return f"{namespace}:{name.lower()}"

    def put(self, name, value):
        self.data[self._key("main", name)] = value

    def get(self, name):
        return self.data.get(self._key("main", name))

    def size(self):
        return len(self.data)
