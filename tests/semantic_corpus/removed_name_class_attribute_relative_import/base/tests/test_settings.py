import unittest

from app.settings import Config


class ConfigTest(unittest.TestCase):
    def test_name(self):
        self.assertEqual(Config.NAME, "app")
