import unittest

from cli.handlers import HANDLERS


class HandlersTest(unittest.TestCase):
    def test_hello(self):
        self.assertEqual(HANDLERS["hello"]([]), "hello")
