import unittest

from store.cache import Cache


class DropTest(unittest.TestCase):
    def test_drop(self):
        c = Cache()
        c.put("A", 1)
        c.drop("A")
        self.assertIsNone(c.get("a"))
