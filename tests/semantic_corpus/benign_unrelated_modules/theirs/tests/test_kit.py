import unittest

from kit.num import double
from kit.text import shout


class KitTest(unittest.TestCase):
    def test_kit(self):
        self.assertEqual((shout("a"), double(2)), ("A!", 4))
