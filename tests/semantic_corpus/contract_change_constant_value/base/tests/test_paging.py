import unittest

from web.paging import MAX_PAGES


class PagingTest(unittest.TestCase):
    def test_max(self):
        self.assertEqual(MAX_PAGES, 100)
