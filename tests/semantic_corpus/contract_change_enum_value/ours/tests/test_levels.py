import unittest

from alerts.levels import Level


class LevelTest(unittest.TestCase):
    def test_low(self):
        self.assertEqual(Level.LOW.value, 1)
