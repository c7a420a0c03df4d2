import unittest

from hub.email import EmailPlugin


class EmailTest(unittest.TestCase):
    def test_rejects(self):
        with self.assertRaises(ValueError):
            EmailPlugin().handle("nobody")
