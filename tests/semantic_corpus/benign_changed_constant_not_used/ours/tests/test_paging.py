import unittest

from web.paging import PAGE_SIZE


class T(unittest.TestCase):
    def test_size(self):
        self.assertEqual(PAGE_SIZE, 20)
