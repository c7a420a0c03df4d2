import unittest

from calc.ops import sub


class SubTest(unittest.TestCase):
    def test_sub(self):
        self.assertEqual(sub(3, 1), 2)
