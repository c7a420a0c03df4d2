import unittest

from models.counter import Counter


class RestartTest(unittest.TestCase):
    def test_reset_to_start(self):
        c = Counter(5)
        c.increment()
        c.reset()
        self.assertEqual(c.value(), 5)
