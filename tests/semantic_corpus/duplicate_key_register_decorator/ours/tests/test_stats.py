import unittest

from cli.handlers import HANDLERS


class StatsTest(unittest.TestCase):
    def test_counts(self):
        self.assertEqual(HANDLERS["stats"](["a"]), "1 args")
