import unittest

from textkit.utils import initials


class InitialsTest(unittest.TestCase):
    def test_initials(self):
        self.assertEqual(initials("big red dog"), "brd")
