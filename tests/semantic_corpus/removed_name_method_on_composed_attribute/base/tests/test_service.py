import unittest

from store.service import Service


class T(unittest.TestCase):
    def test_register(self):
        self.assertEqual(Service().register("a"), 1)
