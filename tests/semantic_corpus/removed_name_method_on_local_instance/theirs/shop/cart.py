"""A shopping cart."""


class Cart:
    def __init__(self):
        self.lines = []

    def add(self, price, qty=1):
        self.lines.append((price, qty))

    def total_price(self):
        return sum(p * q for p, q in self.lines)
