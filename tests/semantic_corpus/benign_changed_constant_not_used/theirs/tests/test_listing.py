import unittest

from web.listing import page_count


class T(unittest.TestCase):
    def test_count(self):
        self.assertEqual(page_count(45), 3)
