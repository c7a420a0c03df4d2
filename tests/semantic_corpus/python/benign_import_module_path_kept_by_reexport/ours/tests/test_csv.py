import unittest
from app.plugins.csv_out import export


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(export(['a']), 'a')
