import unittest

from geometry.area import banner


class BannerTest(unittest.TestCase):
    def test_banner(self):
        self.assertEqual(banner(), 10)
