# expect: safe  # budget: 5
# A worker blocks in socket.recv (native code) until another writes after a sleep.
import socket
import threading
import time

a, b = socket.socketpair()
got = []


def reader():
    got.append(a.recv(16))


def writer():
    time.sleep(1)
    b.sendall(b"hello")


ts = [threading.Thread(target=reader), threading.Thread(target=writer)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert got == [b"hello"], got
