"""Repositories over a connection."""


class BaseRepo:
    url = "memory://"

    def __init__(self):
        self.conn = None

    def fetch(self, key):
        conn = self.conn or {"url": self.url}
        return conn.get(key)
