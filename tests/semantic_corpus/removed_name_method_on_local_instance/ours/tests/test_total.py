import unittest

from shop.cart import Cart


class TotalTest(unittest.TestCase):
    def test_total(self):
        cart = Cart()
        cart.add(2, 3)
        self.assertEqual(cart.total(), 6)
