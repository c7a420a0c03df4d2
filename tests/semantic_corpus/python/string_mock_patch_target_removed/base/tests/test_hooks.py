import unittest
from app.hooks import on_save


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(on_save(1), 1)
