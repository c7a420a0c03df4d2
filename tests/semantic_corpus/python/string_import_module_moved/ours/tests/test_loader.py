import unittest
from app.loader import plugin


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(plugin('app.exporters.csv_out').export(['a']), 'a')
