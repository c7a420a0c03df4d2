import unittest

from shapes.base import Shape


class ShapeTest(unittest.TestCase):
    def test_sides(self):
        self.assertEqual(Shape.sides, 0)
