import unittest

from calc.ops import plus


class PlusTest(unittest.TestCase):
    def test_plus(self):
        self.assertEqual(plus(1, 2), 3)
