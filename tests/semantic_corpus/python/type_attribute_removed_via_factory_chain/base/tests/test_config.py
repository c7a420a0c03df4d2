import unittest
from app.config import current


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(current().level, 1)
