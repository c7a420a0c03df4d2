import unittest

from app.logs import level


class LevelTest(unittest.TestCase):
    def test_level(self):
        self.assertEqual(level(), "info")
