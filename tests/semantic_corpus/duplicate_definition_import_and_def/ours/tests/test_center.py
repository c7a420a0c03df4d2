import unittest

from report.render import center


class CenterTest(unittest.TestCase):
    def test_dots(self):
        self.assertEqual(center("ab", 4), ".ab.")
