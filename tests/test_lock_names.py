"""Locks are named after the variable the program stores them in (read from bytecode)."""

from interlace.runtime import sync


class Account:
    def __init__(self):
        self.balance_guard = sync.Lock()
        self.ready_cond = sync.Condition()


def test_a_variable_names_the_lock():
    transfer_lock = sync.Lock()
    assert transfer_lock._interlace_label == "transfer_lock"


def test_an_attribute_names_the_lock_and_a_second_one_is_numbered():
    first, second = Account(), Account()
    assert first.balance_guard._interlace_label == "balance_guard"
    assert second.balance_guard._interlace_label == "balance_guard#2"
    assert first.ready_cond._interlace_label == "ready_cond"


def test_without_a_name_the_kind_and_a_number():
    locks = [sync.Lock()]
    assert locks[0]._interlace_label.startswith("Lock#")


def test_naming_runs_none_of_the_programs_code():
    class Loud:
        def __repr__(self):
            raise AssertionError("repr ran")

        def __eq__(self, other):
            raise AssertionError("__eq__ ran")

        __hash__ = object.__hash__

    holder = Loud()
    holder.mutex_of_loud = sync.RLock()
    assert holder.mutex_of_loud._interlace_label == "mutex_of_loud"


def _names(obj):
    return {name for name in dir(obj) if not name.startswith("__")}


def test_the_primitives_answer_to_every_name_threading_s_do():
    """Library code calls what the running interpreter's primitives have (3.14's
    ``multiprocessing`` calls ``RLock._recursion_count()``): a missing name would be an
    ``AttributeError`` that looks like the program's bug."""
    import threading
    pairs = [(threading.Lock(), sync.Lock()), (threading.RLock(), sync.RLock()),
             (threading.Condition(), sync.Condition())]
    for real, ours in pairs:
        missing = _names(real) - _names(ours)
        assert not missing, (type(real).__name__, missing)


def test_recursion_count_is_the_calling_thread_s_depth():
    lock = sync.RLock()
    assert lock._recursion_count() == 0
    with lock, lock:
        assert lock._recursion_count() == 2
    assert lock._recursion_count() == 0
