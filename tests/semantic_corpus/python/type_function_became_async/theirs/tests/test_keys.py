import unittest
from app.keys import key_of


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(key_of('a'), 'a')
