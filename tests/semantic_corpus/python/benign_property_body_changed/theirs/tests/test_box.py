import unittest
from app.box import Box


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(Box([1]).size, 1)
