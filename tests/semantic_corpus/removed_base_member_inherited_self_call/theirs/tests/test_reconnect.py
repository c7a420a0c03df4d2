import unittest

from data.users import UserRepo


class ReconnectTest(unittest.TestCase):
    def test_reconnect(self):
        self.assertEqual(UserRepo().reconnect(), {"url": "memory://"})
