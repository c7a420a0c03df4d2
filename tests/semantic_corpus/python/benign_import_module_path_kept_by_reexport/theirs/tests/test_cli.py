import unittest
from app.cli import run


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(run(['a', 'b']), 'a,b')
