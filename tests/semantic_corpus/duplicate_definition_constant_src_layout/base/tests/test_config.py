import unittest

from shop.config import describe


class DescribeTest(unittest.TestCase):
    def test_currency(self):
        self.assertIn("EUR", describe())
