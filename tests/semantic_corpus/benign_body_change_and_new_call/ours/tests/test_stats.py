import unittest

from mathstats.stats import mean


class T(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([1, 3]), 2)
