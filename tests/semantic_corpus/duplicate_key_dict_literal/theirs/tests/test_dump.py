import unittest

from formats.registry import exporter


class DumpTest(unittest.TestCase):
    def test_repr(self):
        self.assertEqual(exporter("json")([["a"]]), "[['a']]")
