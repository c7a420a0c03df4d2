import unittest

from textkit.table import row


class RowTest(unittest.TestCase):
    def test_row(self):
        self.assertEqual(row(["a"]), "a.....")
