import unittest

from geo.path import unit_square


class PathTest(unittest.TestCase):
    def test_corners(self):
        self.assertEqual(len(unit_square()), 4)
