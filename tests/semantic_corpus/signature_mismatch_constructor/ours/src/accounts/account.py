"""Accounts."""


class Account:
    def __init__(self, owner, currency):
        self.owner = owner
        self.currency = currency
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount
        return self.balance
