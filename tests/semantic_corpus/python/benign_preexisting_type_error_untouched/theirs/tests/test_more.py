import unittest
from app.more import where


class T(unittest.TestCase):
    def test_it(self):
        self.assertTrue(where().endswith('/x'))
