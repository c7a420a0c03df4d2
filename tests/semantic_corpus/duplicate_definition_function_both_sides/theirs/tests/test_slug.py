import unittest

from textkit.utils import slugify


class SlugTest(unittest.TestCase):
    def test_underscores(self):
        self.assertEqual(slugify("Big Red"), "big_red")
