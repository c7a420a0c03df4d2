import unittest

from mathstats.report import line


class LineTest(unittest.TestCase):
    def test_line(self):
        self.assertEqual(line([1, 3]), "2 values, mean 2.0")
