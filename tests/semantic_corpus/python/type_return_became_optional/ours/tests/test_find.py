import unittest
from app.find import find


class T(unittest.TestCase):
    def test_it(self):
        self.assertIsNone(find('z'))
