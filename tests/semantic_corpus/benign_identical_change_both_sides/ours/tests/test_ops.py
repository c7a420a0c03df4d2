import unittest

from calc.ops import add, sub


class OpsTest(unittest.TestCase):
    def test_ops(self):
        self.assertEqual(add(1, 2) - sub(3, 1), 1)
