import unittest
from app.use import double_three


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(double_three(), 6)
