import unittest
from app.util import home


class T(unittest.TestCase):
    def test_it(self):
        self.assertTrue(home())
