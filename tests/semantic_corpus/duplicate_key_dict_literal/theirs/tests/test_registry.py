import unittest

from formats.registry import exporter


class ExporterTest(unittest.TestCase):
    def test_csv(self):
        self.assertEqual(exporter("csv")([["a", "b"]]), "a,b")
