import unittest
from app.grow import next_size
from app.box import Box


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(next_size(Box([1])), 2)
