import unittest
from app.fetch import fetch


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(fetch('a')['key'], 'a')
