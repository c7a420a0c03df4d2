import unittest

from app.commands import run


class StopAllTest(unittest.TestCase):
    def test_stop(self):
        self.assertEqual(run("stop"), "stopped all")
