import unittest
from app.report import beta


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(beta(), 20)
