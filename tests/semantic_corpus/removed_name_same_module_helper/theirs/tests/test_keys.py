import unittest

from confkit.parse import parse_keys


class KeysTest(unittest.TestCase):
    def test_keys(self):
        self.assertEqual(parse_keys(["A=1"]), ["a"])
