import unittest

from shop.config import TAX_RATE


class TaxTest(unittest.TestCase):
    def test_rate(self):
        self.assertEqual(TAX_RATE, 0.2)
