import unittest
from app.scale import scale


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(scale(2), 4)
