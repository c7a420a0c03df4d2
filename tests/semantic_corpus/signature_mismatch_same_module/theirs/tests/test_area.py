import unittest

from geometry.area import square


class SquareTest(unittest.TestCase):
    def test_square(self):
        self.assertEqual(square(3), 9)
