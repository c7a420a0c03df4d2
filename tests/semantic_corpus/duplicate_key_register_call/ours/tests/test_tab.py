import unittest

from readers import registry


class TabTest(unittest.TestCase):
    def test_tab(self):
        self.assertFalse(hasattr(registry.reader("tsv"), "header"))
