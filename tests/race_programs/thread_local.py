# expect: norace
# Per-thread state in a threading.local: each thread sees its own attributes.
import threading

local = threading.local()


def work(n):
    local.value = n
    local.value = local.value + 1
    assert local.value == n + 1


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
