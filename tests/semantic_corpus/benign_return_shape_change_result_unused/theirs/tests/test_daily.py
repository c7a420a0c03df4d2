import unittest

from reports.daily import daily


class T(unittest.TestCase):
    def test_daily(self):
        self.assertTrue(daily(["x"]))
