import unittest

from geo.point import Point


class PointTest(unittest.TestCase):
    def test_norm(self):
        self.assertEqual(Point(x=1, y=-2, z=1).norm1(), 4)
