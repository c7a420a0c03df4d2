import unittest
from app.greet import greet


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(greet('a'), 'hi a')
