import unittest
from app.log import verbose


class T(unittest.TestCase):
    def test_it(self):
        self.assertFalse(verbose())
