import unittest

from mail.mailer import Mailer


class T(unittest.TestCase):
    def test_send(self):
        self.assertEqual(Mailer("h").send("a", "b"), 1)
