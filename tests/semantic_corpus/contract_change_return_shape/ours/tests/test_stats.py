import unittest

from mathstats.stats import summary


class SummaryTest(unittest.TestCase):
    def test_summary(self):
        self.assertTrue(summary([1, 3]))
