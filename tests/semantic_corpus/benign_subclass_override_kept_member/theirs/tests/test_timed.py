import unittest

from tasks.timed import TimedTask


class T(unittest.TestCase):
    def test_timer(self):
        self.assertIn("timer", TimedTask().run())
