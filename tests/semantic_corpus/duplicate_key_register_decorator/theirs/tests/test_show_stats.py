import unittest

from cli.handlers import HANDLERS


class ShowStatsTest(unittest.TestCase):
    def test_none(self):
        self.assertEqual(HANDLERS["stats"]([]), "no stats")
