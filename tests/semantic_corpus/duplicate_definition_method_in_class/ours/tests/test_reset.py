import unittest

from models.counter import Counter


class ResetTest(unittest.TestCase):
    def test_reset_to_zero(self):
        c = Counter(5)
        c.reset()
        self.assertEqual(c.value(), 0)
