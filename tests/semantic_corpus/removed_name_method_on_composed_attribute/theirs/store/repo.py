"""Storage."""


class Repo:
    def __init__(self):
        self.rows = []

    def save(self, row):
        self.rows.append(row)
        return len(self.rows)
