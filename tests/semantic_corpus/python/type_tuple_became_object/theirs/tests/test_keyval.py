import unittest
from app.keyval import key


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(key('a:b'), 'a')
