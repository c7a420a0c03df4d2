import unittest

import plugins
from plugins.registry import PLUGINS


class XmlTreeTest(unittest.TestCase):
    def test_tree(self):
        self.assertEqual(PLUGINS["xml"]().read("<a>"), ["<a>"])
