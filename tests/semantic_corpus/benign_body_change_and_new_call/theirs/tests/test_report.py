import unittest

from mathstats.report import line


class T(unittest.TestCase):
    def test_line(self):
        self.assertEqual(line([1, 3]), "mean 2.0 spread 2")
