import unittest

from accounts.account import Account


class AccountTest(unittest.TestCase):
    def test_deposit(self):
        self.assertEqual(Account("ann").deposit(5), 5)
