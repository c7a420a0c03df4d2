import unittest

from store.service import Service


class T(unittest.TestCase):
    def test_archive(self):
        self.assertEqual(Service().archive(["a", "b"]), [1, 2])
