import unittest

from alerts.page import should_page


class PageTest(unittest.TestCase):
    def test_page(self):
        self.assertTrue(should_page(3))
