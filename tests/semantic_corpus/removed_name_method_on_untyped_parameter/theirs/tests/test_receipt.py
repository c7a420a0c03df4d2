import unittest

from shop.cart import Cart
from shop.receipt import receipt


class T(unittest.TestCase):
    def test_receipt(self):
        self.assertEqual(receipt(Cart()), "total: 0")
