import threading

class Account:
    def __init__(self, balance):
        self.balance = balance

    def withdraw(self, amount):
        if self.balance >= amount:
            new = self.balance - amount
            self.balance = new
            return True
        return False

    def deposit(self, amount):
        self.balance = self.balance + amount

acct = Account(100)
log = []

def spender():
    for _ in range(3):
        acct.withdraw(30)
        log.append(1)

def saver():
    for _ in range(3):
        acct.deposit(10)
        log.append(2)

threads = [threading.Thread(target=spender), threading.Thread(target=spender), threading.Thread(target=saver)]
for t in threads: t.start()
for t in threads: t.join()
assert acct.balance >= 0, acct.balance
