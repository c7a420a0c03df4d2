import unittest

import plugins
from plugins.registry import PLUGINS


class PluginsTest(unittest.TestCase):
    def test_csv(self):
        self.assertEqual(PLUGINS["csv"]().read("a,b"), ["a", "b"])
