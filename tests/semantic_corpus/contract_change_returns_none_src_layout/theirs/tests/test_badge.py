import unittest

from directory.badge import badge


class BadgeTest(unittest.TestCase):
    def test_badge(self):
        self.assertEqual(badge("bob"), "#0002")
