"""Shapes."""


class Shape:
    sides = 0

    def describe(self):
        return f"a shape with {self.sides} sides"

    def area(self):
        raise NotImplementedError
