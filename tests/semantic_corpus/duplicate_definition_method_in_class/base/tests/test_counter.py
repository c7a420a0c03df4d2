import unittest

from models.counter import Counter


class CounterTest(unittest.TestCase):
    def test_increment(self):
        self.assertEqual(Counter(2).increment(), 3)
