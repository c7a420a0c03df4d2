import unittest

from app.commands import run


class HaltTest(unittest.TestCase):
    def test_halt(self):
        self.assertEqual(run("stop"), "halted")
