import unittest

from shop.cart import Cart


class CartTest(unittest.TestCase):
    def test_add(self):
        cart = Cart()
        cart.add(2, 3)
        self.assertEqual(len(cart.lines), 1)
