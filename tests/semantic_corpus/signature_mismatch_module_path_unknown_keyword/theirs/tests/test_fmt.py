import unittest

from textkit.fmt import pad


class PadTest(unittest.TestCase):
    def test_pad(self):
        self.assertEqual(pad("ab", 4), "ab..")
