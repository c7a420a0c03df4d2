import unittest

from report.render import title


class TitleTest(unittest.TestCase):
    def test_title(self):
        self.assertEqual(title("x"), "**X**")
