import unittest

from bank.report import in_dollars


class ReportTest(unittest.TestCase):
    def test_dollars(self):
        self.assertEqual(in_dollars(100), "$110.0")
