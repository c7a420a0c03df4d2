"""The service layer."""
from store.repo import Repo


class Service:
    def __init__(self):
        self.repo = Repo()

    def register(self, name):
        return self.repo.store({"name": name})

    def count(self):
        return len(self.repo.rows)
