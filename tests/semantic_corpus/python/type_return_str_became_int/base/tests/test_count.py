import unittest
from app.count import total


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(total([1]), '1')
