import unittest

from report.render import center


class LayoutTest(unittest.TestCase):
    def test_spaces(self):
        self.assertEqual(len(center("ab")), 20)
