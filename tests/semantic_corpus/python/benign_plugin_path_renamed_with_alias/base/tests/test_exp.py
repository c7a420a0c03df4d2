import unittest
from app.exporters import JsonExporter


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(JsonExporter().run(1), '1')
