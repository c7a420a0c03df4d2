import unittest

from bank.money import convert


class ConvertTest(unittest.TestCase):
    def test_convert(self):
        self.assertEqual(convert(10, rate=2), 20)
