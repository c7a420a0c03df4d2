import unittest
from app.users import make


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(make('a').full_name, 'a')
