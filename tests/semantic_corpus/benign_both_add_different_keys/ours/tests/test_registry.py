import unittest

from formats.registry import EXPORTERS


class T(unittest.TestCase):
    def test_csv(self):
        self.assertEqual(EXPORTERS["csv"](["a", "b"]), "a,b")
