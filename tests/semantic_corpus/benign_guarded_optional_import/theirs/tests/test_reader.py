import unittest

from csvkit.reader import split


class T(unittest.TestCase):
    def test_split(self):
        self.assertEqual(split("a,b"), ["a", "b"])
