from accounts.account import Account


def demo():
    account = Account("bob")
    return account.deposit(10)
