import unittest

from util.strings import slug


class SlugTest(unittest.TestCase):
    def test_slug(self):
        self.assertEqual(slug(" A b "), "a-b")
