import unittest

from app.commands import run


class RunTest(unittest.TestCase):
    def test_start(self):
        self.assertEqual(run("start"), "started")
