import unittest

from textkit.utils import slugify


class SlugifyTest(unittest.TestCase):
    def test_dashes(self):
        self.assertEqual(slugify("Big Red"), "big-red")
