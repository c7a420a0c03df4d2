import unittest

from geo.point import Point


class T(unittest.TestCase):
    def test_point(self):
        self.assertEqual(Point(1, 2).x, 1)
