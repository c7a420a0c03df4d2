import unittest

from data.users import UserRepo


class UsersTest(unittest.TestCase):
    def test_anonymous(self):
        self.assertEqual(UserRepo().name(1), "anonymous")
