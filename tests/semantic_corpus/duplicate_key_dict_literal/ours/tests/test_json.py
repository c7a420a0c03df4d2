import unittest

from formats.registry import exporter


class JsonTest(unittest.TestCase):
    def test_json(self):
        self.assertEqual(exporter("json")([["a"]]), '[["a"]]')
