"""Users."""
from data.base import BaseRepo


class UserRepo(BaseRepo):
    def name(self, uid):
        return self.fetch(f"user:{uid}") or "anonymous"
