from shapes.base import Shape


class Square(Shape):
    sides = 4

    def __init__(self, side):
        self.side = side

    def describe(self):
        return f"a square of side {self.side}"

    def area(self):
        return self.side ** 2
