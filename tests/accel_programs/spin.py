# A spin loop: under the default schedule the spinner never lets the setter run, so the
# execution ends as a livelock at --max-steps, counted the same with and without the C path.
import threading

done = [False]


def spinner():
    while not done[0]:
        pass


def setter():
    done[0] = True


s = threading.Thread(target=spinner)
t = threading.Thread(target=setter)
s.start()
t.start()
s.join()
t.join()
