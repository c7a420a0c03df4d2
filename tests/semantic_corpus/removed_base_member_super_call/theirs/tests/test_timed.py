import unittest

from tasks.timed import TimedTask


class TimedTest(unittest.TestCase):
    def test_log(self):
        self.assertEqual(TimedTask().run(), ["setup", "timer started", "run"])
