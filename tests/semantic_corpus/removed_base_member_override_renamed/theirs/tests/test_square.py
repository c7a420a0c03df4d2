import unittest

from shapes.square import Square


class SquareTest(unittest.TestCase):
    def test_area(self):
        self.assertEqual(Square(3).area(), 9)
