import unittest

from confkit.parse import parse_lines


class ParseTest(unittest.TestCase):
    def test_lines(self):
        self.assertEqual(parse_lines(["A = 1", ""]), {"a": "1"})
