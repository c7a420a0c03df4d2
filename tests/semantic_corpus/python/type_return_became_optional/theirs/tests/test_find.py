import unittest
from app.find import find


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(find('a'), 'alice')
