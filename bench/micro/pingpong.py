# expect: safe
# micro (d): two threads ping-pong a token 200 times through a Condition (forces a switch per hand-off).
import threading

ROUNDS = 200
cond = threading.Condition()
turn = [0]
count = [0]


def player(me):
    for _ in range(ROUNDS):
        with cond:
            while turn[0] != me:
                cond.wait()
            count[0] += 1
            turn[0] = 1 - me
            cond.notify_all()


a = threading.Thread(target=player, args=(0,))
b = threading.Thread(target=player, args=(1,))
a.start()
b.start()
a.join()
b.join()
assert count[0] == 2 * ROUNDS, count
