# Two threads increment an unlocked global twice each; prints the final value.
import sys
import threading

counter = 0


def work():
    global counter
    for _ in range(2):
        counter = counter + 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(sys.argv) > 1:
    with open(sys.argv[1], "a") as out:
        out.write(f"{counter}\n")
