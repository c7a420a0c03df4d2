import unittest

from lib.app import start


class StartTest(unittest.TestCase):
    def test_start(self):
        self.assertEqual(start("x"), ["path"])
