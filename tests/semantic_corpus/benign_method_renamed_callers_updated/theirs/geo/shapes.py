"""Shapes."""


class Circle:
    def __init__(self, r):
        self.r = r

    def perimeter(self):
        return 2 * 3.14 * self.r

    def describe(self):
        return f"circle, perimeter {self.perimeter()}"


class Line:
    def __init__(self, length):
        self.length = length

    def describe(self):
        return f"line of {self.length}"

    def scaled(self, k):
        return Line(self.length * k)
