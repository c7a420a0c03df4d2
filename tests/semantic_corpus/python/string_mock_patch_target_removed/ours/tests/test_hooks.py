import unittest
from app.hooks import after_save


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(after_save(1), 1)
