# expect: race
# pair: 11 11
# Thread-pool workers count words into one dict: a read-modify-write of the same key.
from concurrent.futures import ThreadPoolExecutor

counts = {}
words = ["a", "b", "a", "a"]


def count(word):
    counts[word] = counts.get(word, 0) + 1


with ThreadPoolExecutor(max_workers=2) as pool:
    list(pool.map(count, words))
print(counts)
