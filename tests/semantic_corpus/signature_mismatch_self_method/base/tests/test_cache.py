import unittest

from store.cache import Cache


class CacheTest(unittest.TestCase):
    def test_roundtrip(self):
        c = Cache()
        c.put("A", 1)
        self.assertEqual(c.get("a"), 1)
