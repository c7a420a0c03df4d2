"""Baskets."""


class Basket:
    def __init__(self):
        self.items = []

    def add(self, price, qty=1):
        self.items.append((price, qty))
        return len(self.items)


def open_basket() -> Basket:
    return Basket()
