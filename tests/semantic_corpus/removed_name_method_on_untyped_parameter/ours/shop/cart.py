"""A shopping cart."""


class Cart:
    def __init__(self):
        self.lines = []

    def total(self):
        return sum(self.lines)
