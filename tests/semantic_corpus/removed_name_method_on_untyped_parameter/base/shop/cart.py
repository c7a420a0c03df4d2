"""A shopping cart."""


class Cart:
    def __init__(self):
        self.lines = []

    def total_price(self):
        return sum(self.lines)
