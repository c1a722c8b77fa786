# expect: race
# Two threads increment a global counter without a lock; nothing checks the total.
import threading

counter = 0


def work():
    global counter
    for _ in range(3):
        counter += 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter)
