"""Repositories over a connection."""


class BaseRepo:
    url = "memory://"

    def __init__(self):
        self.conn = None

    def _connect(self):
        self.conn = {"url": self.url}
        return self.conn

    def fetch(self, key):
        conn = self.conn or self._connect()
        return conn.get(key)
