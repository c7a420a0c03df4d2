import unittest

from readers import registry


class ReadersTest(unittest.TestCase):
    def test_csv(self):
        self.assertEqual(registry.reader("csv").sep, ",")
