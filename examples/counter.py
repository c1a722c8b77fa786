"""Two threads increment a shared counter without a lock: updates get lost."""
import threading

counter = 0


def work():
    global counter
    for _ in range(3):
        counter = counter + 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()

assert counter == 6, f"lost update: counter is {counter}, expected 6"
