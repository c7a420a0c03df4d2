import unittest

from market.basket import open_basket


class T(unittest.TestCase):
    def test_open(self):
        self.assertEqual(open_basket().items, [])
