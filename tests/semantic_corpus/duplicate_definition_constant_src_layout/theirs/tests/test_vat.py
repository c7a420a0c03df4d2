import unittest

from shop import config


class VatTest(unittest.TestCase):
    def test_vat(self):
        self.assertEqual(config.TAX_RATE * 100, 25)
