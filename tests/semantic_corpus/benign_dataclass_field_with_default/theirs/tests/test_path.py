import unittest

from geo.path import diagonal


class T(unittest.TestCase):
    def test_diagonal(self):
        self.assertEqual(len(diagonal()), 2)
