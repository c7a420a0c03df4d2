import unittest

from shop.checkout import receipt


class ReceiptTest(unittest.TestCase):
    def test_receipt(self):
        self.assertEqual(receipt([1, 2]), "total: 3")
