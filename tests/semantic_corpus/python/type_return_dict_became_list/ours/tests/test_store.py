import unittest
from app.store import load


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(load()[0], ('alpha', 1))
