import unittest
from app.registry import load


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(load('app.exporters.JSONExporter')().run(1), '1')
