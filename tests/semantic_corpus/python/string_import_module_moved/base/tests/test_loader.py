import unittest
from app.loader import plugin


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(plugin('app.plugins.csv_out').export(['a']), 'a')
