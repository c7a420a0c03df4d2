import unittest

from market.bulk import bulk


class T(unittest.TestCase):
    def test_bulk(self):
        self.assertEqual(bulk(3), 1)
