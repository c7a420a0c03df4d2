"""Storage."""


class Repo:
    def __init__(self):
        self.rows = []

    def store(self, row):
        self.rows.append(row)
        return len(self.rows)
