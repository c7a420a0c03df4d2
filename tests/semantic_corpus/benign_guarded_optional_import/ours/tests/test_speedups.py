import unittest

from csvkit.speedups import fast_join


class T(unittest.TestCase):
    def test_join(self):
        self.assertEqual(fast_join(["a", "b"]), "a,b")
