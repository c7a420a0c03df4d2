import unittest
from app.settings import PLUGINS


class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(len(PLUGINS), 1)
