import unittest

from readers import registry


class TsvTest(unittest.TestCase):
    def test_header(self):
        self.assertTrue(registry.reader("tsv").header)
