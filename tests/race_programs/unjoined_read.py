# expect: race
# pair: 13 18
# pair: 12 19
# The main thread reads a worker's results without joining it first.
import threading

results = []
status = {"done": False}


def work():
    results.append(42)
    status["done"] = True


t = threading.Thread(target=work)
t.start()
if status["done"]:
    print(results[0])
t.join()
