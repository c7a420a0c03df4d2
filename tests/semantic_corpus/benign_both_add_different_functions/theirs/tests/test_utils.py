import unittest

from textkit.utils import initials


class T(unittest.TestCase):
    def test_initials(self):
        self.assertEqual(initials("a b"), "ab")
