import unittest

from mail.digest import send_digest


class T(unittest.TestCase):
    def test_digest(self):
        self.assertEqual(len(send_digest("h", ["a", "b"])), 2)
