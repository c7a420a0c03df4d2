import unittest

from hub.plugin import Plugin


class PluginTest(unittest.TestCase):
    def test_handle(self):
        self.assertEqual(Plugin().handle("x"), "x")
