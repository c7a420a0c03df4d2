import unittest

from geo.shapes import Circle, Line


class T(unittest.TestCase):
    def test_describe(self):
        self.assertTrue(Circle(1).describe().startswith("circle"))
        self.assertEqual(Line(2).describe(), "line of 2")
