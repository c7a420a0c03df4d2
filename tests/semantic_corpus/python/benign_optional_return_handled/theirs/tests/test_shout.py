import unittest
from app.shout import shout


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(shout('a'), 'ALICE')
