import unittest

from kit.tools import platform


class T(unittest.TestCase):
    def test_platform(self):
        self.assertTrue(platform())
