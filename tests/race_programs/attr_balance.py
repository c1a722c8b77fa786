# expect: race
# pair: 13 13
# An account's balance updated by two threads without a lock (an attribute lost update).
import threading


class Account:
    def __init__(self):
        self.balance = 100


def deposit(account, amount):
    account.balance = account.balance + amount


acct = Account()
threads = [threading.Thread(target=deposit, args=(acct, n)) for n in (10, 20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
