import unittest
from app.store import rows


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(sum(rows()), 6)
