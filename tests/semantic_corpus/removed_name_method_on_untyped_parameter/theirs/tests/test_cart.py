import unittest

from shop.cart import Cart


class T(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(Cart().lines, [])
