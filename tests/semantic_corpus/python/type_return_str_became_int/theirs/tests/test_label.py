import unittest
from app.label import label


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(label([1]), '001')
