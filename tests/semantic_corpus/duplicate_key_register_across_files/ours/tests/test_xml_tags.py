import unittest

import plugins
from plugins.registry import PLUGINS


class XmlTagsTest(unittest.TestCase):
    def test_tags(self):
        self.assertEqual(PLUGINS["xml"]().read("<a>"), "a")
