import unittest
from app.use import six


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(six(), 6)
