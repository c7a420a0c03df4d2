import unittest
from app.split import split


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(split('a:b').head, 'a')
