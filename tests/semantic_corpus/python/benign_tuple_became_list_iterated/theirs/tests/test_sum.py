import unittest
from app.sum import total


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(total(), 6)
