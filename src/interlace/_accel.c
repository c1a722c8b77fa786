/* interlace._accel: the per-instruction path and the thread hand-off in C.
 *
 * Optional: interlace runs the same logic in pure Python when this module is missing or
 * INTERLACE_PURE_PYTHON=1 (see interlace/hooks/__init__.py).  Results are identical either way;
 * tests/test_accel.py checks it.
 *
 *   Hook(dispatch, *, record, need_frame, monitoring, tool, set_local_events, builder)
 *       One per execution.  Holds a table per code object (which offsets have a plan step and
 *       what kind), a mirror of the scheduler state the hot path needs (see Flag), and calls
 *       ``dispatch(step, frame)`` (Scheduler.dispatch) only when that call would do something.
 *       - as a sys.monitoring INSTRUCTION callback (3.12+): ``hook(code, offset)``; returns
 *         DISABLE for offsets without a step.
 *       - as a C trace function (3.10/3.11): ``settrace(hook)`` installs it with
 *         PyEval_SetTrace in the calling thread (opcode events on user code only).
 *   Flag(hook, name)
 *       Data descriptor that stores one scheduler attribute (alone, pending_switch,
 *       outside_count, step, points, running, runnable) in the hook, so that C reads it as a
 *       plain field.  The pure-Python scheduler code reads and writes it as before.
 *   Baton(), handoff(to, me)
 *       One binary semaphore per managed thread (a PyThread lock: a POSIX semaphore on Linux).
 *       ``handoff`` releases ``to`` and waits on ``me`` with the GIL (or, free-threaded, the
 *       thread state) dropped for the whole hand-off, so the woken thread never queues for it.
 *
 * When is calling dispatch a no-op?  Scheduler.dispatch is
 *
 *     if outside_count: readmit
 *     if (step.switch or pending_switch) and alone is not True: pending_switch = False; schedule()
 *     if recording and step.kind is not None: record the access
 *     if step.switch_after_c_call and <callee is C>: pending_switch = True
 *
 * so the hook calls it only when outside_count != 0, when a scheduling point is due, when an
 * access must be recorded, or when a C-call check could set pending_switch (gil model).
 *
 * A due scheduling point needs Python unless the policy promised (Policy.quiet_until) that its
 * choice stays the running thread up to some step, and nothing changed since (any write to
 * ``alone`` cancels the promise): then the point is counted here exactly as schedule() would
 * (points += 1, step += 1, no choice differs from the default, no switch).  If the policy is a
 * random walk from this step on (Policy.random_walk), the choice is drawn here instead, from
 * the policy's own generator, among the runnable threads schedule() last published (any write
 * to ``alone`` drops them); only a switch to another thread calls Python (walk_step).
 *
 * While the running thread is alone (the only runnable thread) and nothing is recorded, every
 * dispatch is a no-op; after QUIET_THRESHOLD such calls in a row, the monitoring hook turns
 * INSTRUCTION events off for the code it is in (set_local_events(tool, code, 0)), so the code
 * runs at full speed, specialised.  Any write that ends that state (``alone`` not True,
 * ``outside_count`` non-zero, ``pending_switch`` False where a C-call check is planned) turns
 * the events back on, before the write returns.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include "pythread.h"
#include <stddef.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030C0000
#define IL_MONITORING 1
#else
#define IL_MONITORING 0
#endif

#ifdef Py_GIL_DISABLED
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define EXCHANGE(x, v) __atomic_exchange_n(&(x), (v), __ATOMIC_ACQ_REL)
#else
#define LOAD(x) (x)
#define STORE(x, v) ((x) = (v))
static inline int exchange_int(int *x, int v) { int old = *x; *x = v; return old; }
#define EXCHANGE(x, v) exchange_int(&(x), (v))
#endif

/* per-offset flags */
#define F_STEP 1     /* a plan step: the pure hook would call dispatch here */
#define F_SWITCH 2   /* step.switch */
#define F_KIND 4     /* step.kind is not None: recorded when recording */
#define F_AFTER 8    /* step.switch_after_c_call */

/* which scheduler attribute a Flag mirrors */
enum { FL_ALONE, FL_PENDING, FL_OUTSIDE, FL_STEP, FL_POINTS, FL_RUNNING, FL_RUNNABLE, FL_COUNT };
static const char *const flag_names[FL_COUNT] = {
    "alone", "pending_switch", "outside_count", "step", "points", "running", "runnable"};

#define QUIET_THRESHOLD 4096

#if IL_MONITORING
static PyObject *DISABLE = NULL;     /* sys.monitoring.DISABLE (3.12+) */
static long EV_INSTRUCTION = 0;      /* sys.monitoring.events.INSTRUCTION */
#endif
static PyObject *str_switch, *str_kind, *str_after, *str_f_trace_lines, *str_f_trace_opcodes,
    *str_ident;

/* ------------------------------------------------------------------ per-code tables */

typedef struct {
    PyObject *code;       /* strong reference: keeps the key (a pointer) valid */
    PyObject *steps;      /* the plan (a list), or NULL for excluded code */
    Py_ssize_t n;
    uint8_t *flags;
    int has_after;
    int off;              /* INSTRUCTION events turned off while alone */
} Table;

/* ------------------------------------------------------------------ Hook */

/* An open-addressing array of ``cap`` slots (code pointer -> Table) with its capacity in
 * front: a free-threaded reader loads one pointer and gets both, never an old array with a
 * new size. */
typedef struct {
    Py_ssize_t cap;
    Table *slot[];
} Slots;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dispatch;
    PyObject *builder;            /* settrace: code -> plan list or None */
    PyObject *set_local_events;   /* monitoring: sys.monitoring.set_local_events */
    PyObject *quiet_fn;           /* policy.quiet_until, or NULL */
    PyObject *walk_random;        /* policy.random_walk()'s random(), or NULL: not a walk */
    double walk_p;                /* ... its switch probability */
    Py_ssize_t walk_from;         /* ... and the first step it chooses like that */
    PyObject *switch_fn;          /* Scheduler.switch_to */
    int tool;
    int monitoring;
    int record;
    int need_frame;
    Slots *slots;                 /* code pointer -> Table */
    Py_ssize_t used;
    Table *last;
    Table **all;                  /* every table, in creation order */
    Py_ssize_t nall, capall;
    Slots *retired_slots[64];     /* free-threaded readers may still see an old array */
    int nretired;
#ifdef Py_GIL_DISABLED
    PyMutex mutex;
#endif
    /* mirrored scheduler state */
    PyObject *values[FL_COUNT];   /* as written, for reads from Python */
    int alone;                    /* 1: True, 0: False, -1: None or anything else */
    unsigned long running;        /* the thread whose turn it is (its ident): only it decides */
    /* values[FL_RUNNABLE]: the runnable threads of the last choice (a tuple, or NULL once
     * ``alone`` is written), and their idents (0: not started) */
    unsigned long *run_ident;
    Py_ssize_t nrun;
    int pending;
    Py_ssize_t outside;
    Py_ssize_t step, points, max_steps;
    int bound;                    /* the flags are mirrored (bind() called) */
    Py_ssize_t quiet_until;       /* the policy keeps the current thread up to this step */
    Py_ssize_t streak;            /* no-op calls in a row while alone */
    Py_ssize_t quiet_threshold;
    Py_ssize_t noff;              /* tables with events turned off */
    /* statistics */
    long long n_fast, n_slow, n_quiet_steps, n_walk_steps, n_off, n_on;
} Hook;

static PyTypeObject HookType;

static inline size_t
ptr_hash(void *p)
{
    size_t h = (size_t)p;
    h ^= h >> 17;
    h *= (size_t)0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

#ifdef Py_GIL_DISABLED
#define LOAD_ACQ(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE_REL(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#else
#define LOAD_ACQ(x) (x)
#define STORE_REL(x, v) ((x) = (v))
#endif

static Table *
slots_find(Slots *slots, PyObject *code)
{
    if (slots == NULL)
        return NULL;
    size_t mask = (size_t)slots->cap - 1, i = ptr_hash(code) & mask;
    for (;;) {
        Table *t = LOAD_ACQ(slots->slot[i]);
        if (t == NULL)
            return NULL;
        if (t->code == code)
            return t;
        i = (i + 1) & mask;
    }
}

static Table *
hook_find(Hook *h, PyObject *code)
{
#ifdef Py_GIL_DISABLED
    Table *t = slots_find(LOAD_ACQ(h->slots), code);
    if (t == NULL) {      /* maybe inserted concurrently: look again under the lock */
        PyMutex_Lock(&h->mutex);
        t = slots_find(h->slots, code);
        PyMutex_Unlock(&h->mutex);
    }
    return t;
#else
    return slots_find(h->slots, code);
#endif
}

static void
slots_insert(Slots *slots, Table *t)
{
    size_t mask = (size_t)slots->cap - 1, i = ptr_hash(t->code) & mask;
    while (slots->slot[i] != NULL)
        i = (i + 1) & mask;
    STORE_REL(slots->slot[i], t);   /* published whole: the Table is complete before */
}

static void
table_free(Table *t)
{
    Py_XDECREF(t->code);
    Py_XDECREF(t->steps);
    PyMem_Free(t->flags);
    PyMem_Free(t);
}

/* Build the table of ``code`` from ``plan`` (a list of PlanEntry or None; None: excluded code). */
static Table *
table_new(PyObject *code, PyObject *plan)
{
    Table *t = PyMem_Calloc(1, sizeof(Table));
    if (t == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_INCREF(code);
    t->code = code;
    if (plan == Py_None)
        return t;
    if (!PyList_Check(plan)) {
        PyErr_SetString(PyExc_TypeError, "a plan must be a list");
        table_free(t);
        return NULL;
    }
    Py_INCREF(plan);
    t->steps = plan;
    t->n = PyList_GET_SIZE(plan);
    t->flags = PyMem_Calloc(t->n ? t->n : 1, 1);
    if (t->flags == NULL) {
        PyErr_NoMemory();
        table_free(t);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < t->n; i++) {
        PyObject *step = PyList_GET_ITEM(plan, i);
        if (step == Py_None)
            continue;
        uint8_t f = F_STEP;
        PyObject *v;
        int truth;
        if ((v = PyObject_GetAttr(step, str_switch)) == NULL)
            goto error;
        truth = PyObject_IsTrue(v);
        Py_DECREF(v);
        if (truth < 0)
            goto error;
        if (truth)
            f |= F_SWITCH;
        if ((v = PyObject_GetAttr(step, str_kind)) == NULL)
            goto error;
        if (v != Py_None)
            f |= F_KIND;
        Py_DECREF(v);
        if ((v = PyObject_GetAttr(step, str_after)) == NULL)
            goto error;
        truth = PyObject_IsTrue(v);
        Py_DECREF(v);
        if (truth < 0)
            goto error;
        if (truth) {
            f |= F_AFTER;
            t->has_after = 1;
        }
        t->flags[i] = f;
    }
    return t;
error:
    table_free(t);
    return NULL;
}

/* Insert ``t``: 0; -1 on error.  1 when the code object has a table already: another thread
 * met the same new code while this one built its plan (the builder runs Python code, during
 * which the GIL may pass; two threads run at once on a free-threaded build).  Plans of one
 * code object are equal, so the caller frees ``t`` and uses ``*existing``. */
static int
hook_insert(Hook *h, Table *t, Table **existing)
{
    int rc = -1;
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&h->mutex);
#endif
    *existing = slots_find(h->slots, t->code);
    if (*existing != NULL) {
        rc = 1;
        goto done;
    }
    if (h->nall == h->capall) {
        Py_ssize_t cap = h->capall ? h->capall * 2 : 64;
        Table **all = PyMem_Realloc(h->all, cap * sizeof(Table *));
        if (all == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        h->all = all;
        h->capall = cap;
    }
    Py_ssize_t oldcap = h->slots ? h->slots->cap : 0;
    if ((h->used + 1) * 2 > oldcap) {
        Py_ssize_t cap = oldcap ? oldcap * 2 : 64;
        Slots *slots = PyMem_Calloc(1, sizeof(Slots) + cap * sizeof(Table *));
        if (slots == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        slots->cap = cap;
        for (Py_ssize_t i = 0; i < oldcap; i++)
            if (h->slots->slot[i] != NULL)
                slots_insert(slots, h->slots->slot[i]);
        Slots *old = h->slots;
        STORE_REL(h->slots, slots);
#ifdef Py_GIL_DISABLED
        if (old != NULL) {
            if (h->nretired < 64)
                h->retired_slots[h->nretired++] = old;   /* freed with the hook */
            /* else: leak it rather than risk a reader using freed memory */
        }
#else
        PyMem_Free(old);
#endif
    }
    slots_insert(h->slots, t);
    h->used++;
    h->all[h->nall++] = t;
    rc = 0;
done:
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&h->mutex);
#endif
    return rc;
}

/* ------------------------------------------------------------------ quiet (alone) mode */

static int
set_events(Hook *h, Table *t, int on)
{
    if (h->set_local_events == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the hook was cleared");
        return -1;
    }
#if IL_MONITORING
    PyObject *r = PyObject_CallFunction(h->set_local_events, "iOl", h->tool, t->code,
                                        on ? EV_INSTRUCTION : 0L);
#else
    PyObject *r = NULL;
    PyErr_SetString(PyExc_RuntimeError, "no sys.monitoring");
#endif
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Turn INSTRUCTION events back on wherever they were turned off. */
static int
hook_wake(Hook *h)
{
    h->streak = 0;
    if (h->noff == 0)
        return 0;
    /* hook_insert may grow ``all`` meanwhile (another thread meeting new code, free-threaded):
     * walk a copy.  Tables themselves live as long as the hook. */
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&h->mutex);
#endif
    Py_ssize_t n = h->nall;
    Table **all = PyMem_Malloc((n ? n : 1) * sizeof(Table *));
    if (all != NULL)
        memcpy(all, h->all, n * sizeof(Table *));
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&h->mutex);
#endif
    if (all == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++) {
        Table *t = all[i];
        if (t->off) {
            if (set_events(h, t, 1) < 0) {
                rc = -1;
                break;
            }
            t->off = 0;
            h->noff--;
            h->n_on++;
        }
    }
    PyMem_Free(all);
    return rc;
}

/* ------------------------------------------------------------------ the runnable threads */

#ifdef Py_GIL_DISABLED
#define HOOK_LOCK(h) PyMutex_Lock(&(h)->mutex)
#define HOOK_UNLOCK(h) PyMutex_Unlock(&(h)->mutex)
#else
#define HOOK_LOCK(h)
#define HOOK_UNLOCK(h)
#endif

/* Replace the published runnable threads (``tuple`` NULL: none); steals ``tuple`` and
 * ``idents``.  Free-threaded, the watchdog thread may write ``alone`` while the running thread
 * reads them: both sides hold the hook's mutex. */
static void
runnable_replace(Hook *h, PyObject *tuple, unsigned long *idents, Py_ssize_t n)
{
    HOOK_LOCK(h);
    PyObject *old = h->values[FL_RUNNABLE];
    unsigned long *old_idents = h->run_ident;
    h->values[FL_RUNNABLE] = tuple;
    h->run_ident = idents;
    h->nrun = n;
    HOOK_UNLOCK(h);
    Py_XDECREF(old);
    PyMem_Free(old_idents);
}

static int
runnable_publish(Hook *h, PyObject *value)
{
    if (value == Py_None) {
        runnable_replace(h, NULL, NULL, 0);
        return 0;
    }
    PyObject *tuple = PySequence_Tuple(value);
    if (tuple == NULL)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    unsigned long *idents = PyMem_Malloc((n ? n : 1) * sizeof(unsigned long));
    if (idents == NULL) {
        Py_DECREF(tuple);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyObject_GetAttr(PyTuple_GET_ITEM(tuple, i), str_ident);
        unsigned long ident = 0;
        if (v != NULL && v != Py_None)
            ident = PyLong_AsUnsignedLong(v);
        Py_XDECREF(v);
        if (v == NULL || (ident == (unsigned long)-1 && PyErr_Occurred())) {
            Py_DECREF(tuple);
            PyMem_Free(idents);
            return -1;
        }
        idents[i] = ident;
    }
    runnable_replace(h, tuple, idents, n);
    return 0;
}

/* One draw of the walk's random(): 0, or -1 with an exception set. */
static int
walk_draw(Hook *h, double *x)
{
    PyObject *r = PyObject_CallNoArgs(h->walk_random);
    if (r == NULL)
        return -1;
    *x = PyFloat_AsDouble(r);
    Py_DECREF(r);
    return (*x == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* A scheduling point of a random walk (Policy.random_walk), chosen here exactly as
 * RandomPolicy.choose does (same draws from the same generator):
 *
 *     if current in runnable and len(runnable) > 1 and random() >= p: keep current
 *     else: runnable[int(random() * len(runnable))]
 *
 * Keeping the running thread is the default choice, so it changes nothing but the counters;
 * any other choice goes to Scheduler.switch_to.  1: done, 0: Python must decide, -1: error. */
static int
walk_step(Hook *h)
{
    if (h->walk_random == NULL || h->step + 1 < h->walk_from)
        return 0;
    unsigned long me = PyThread_get_thread_ident();
    Py_ssize_t n, mine = -1;
    HOOK_LOCK(h);
    PyObject *runnable = h->values[FL_RUNNABLE];
    n = h->nrun;
    if (runnable != NULL && n >= 2) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (h->run_ident[i] == me) {
                mine = i;
                break;
            }
    }
    if (mine >= 0)
        Py_INCREF(runnable);
    HOOK_UNLOCK(h);
    if (mine < 0)
        return 0;
    h->pending = 0;
    h->points++;
    h->step++;
    h->n_walk_steps++;
    int rc = -1;
    double x;
    if (walk_draw(h, &x) < 0)
        goto done;
    if (x < h->walk_p) {
        if (walk_draw(h, &x) < 0)
            goto done;
        Py_ssize_t pick = (Py_ssize_t)(x * (double)n);
        if (pick < 0 || pick >= n) {
            PyErr_SetString(PyExc_ValueError, "random() must return a float in [0, 1)");
            goto done;
        }
        if (pick != mine) {
            PyObject *args[2] = {runnable, PyTuple_GET_ITEM(runnable, pick)};
            PyObject *res = PyObject_Vectorcall(h->switch_fn, args, 2, NULL);
            if (res == NULL)
                goto done;
            Py_DECREF(res);
        }
    }
    rc = 1;
done:
    Py_DECREF(runnable);
    return rc;
}

/* ------------------------------------------------------------------ the decision */

static PyObject *
call_dispatch(Hook *h, Table *t, Py_ssize_t idx, PyObject *frame)
{
    h->streak = 0;
    h->n_slow++;
    if (h->dispatch == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the hook was cleared");
        return NULL;
    }
    PyObject *args[2] = {PyList_GET_ITEM(t->steps, idx), Py_None};
    if (h->need_frame) {
        if (frame == NULL)
            frame = (PyObject *)PyEval_GetFrame();
        if (frame != NULL)
            args[1] = frame;
    }
    Py_INCREF(args[0]);    /* the plan list could in theory be mutated during the call */
    Py_INCREF(args[1]);
    PyObject *r = PyObject_Vectorcall(h->dispatch, args, 2, NULL);
    Py_DECREF(args[0]);
    Py_DECREF(args[1]);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    /* After a scheduling point with a choice, ask how long the policy keeps this thread. */
    if (h->quiet_fn != NULL && LOAD(h->alone) == 0 && !h->record && LOAD(h->outside) == 0) {
        PyObject *s = PyLong_FromSsize_t(h->step);
        if (s == NULL)
            return NULL;
        PyObject *q = PyObject_CallOneArg(h->quiet_fn, s);
        Py_DECREF(s);
        if (q == NULL)
            return NULL;
        Py_ssize_t until = PyLong_AsSsize_t(q);
        Py_DECREF(q);
        if (until == -1 && PyErr_Occurred())
            return NULL;
        /* only if nothing was written meanwhile (the call ran Python code) */
        if (LOAD(h->alone) == 0)
            h->quiet_until = until;
    }
    Py_RETURN_NONE;
}

/* One planned instruction (its flags are non-zero).  ``frame``: NULL for monitoring. */
static inline PyObject *
decide(Hook *h, Table *t, Py_ssize_t idx, uint8_t f, PyObject *frame)
{
    if (!h->bound || LOAD(h->outside) != 0 || PyThread_get_thread_ident() != LOAD(h->running))
        return call_dispatch(h, t, idx, frame);   /* Python decides (a stray thread: nothing) */
    int alone = LOAD(h->alone);
    if (((f & F_SWITCH) || h->pending) && alone != 1) {
        /* a scheduling point: count it here if the policy promised to keep this thread */
        if (alone == 0 && !(f & F_AFTER) && h->points < h->max_steps && !h->record) {
            if (h->step < h->quiet_until) {
                h->pending = 0;
                h->points++;
                h->step++;
                h->n_quiet_steps++;
                h->n_fast++;
                Py_RETURN_NONE;
            }
            int done = walk_step(h);    /* or a random walk's choice, made here */
            if (done < 0)
                return NULL;
            if (done)
                Py_RETURN_NONE;
        }
        return call_dispatch(h, t, idx, frame);
    }
    if (h->record && (f & F_KIND))
        return call_dispatch(h, t, idx, frame);
    if ((f & F_AFTER) && !h->pending)
        return call_dispatch(h, t, idx, frame);
    /* dispatch would do nothing */
    h->n_fast++;
#if IL_MONITORING
    if (alone == 1 && h->monitoring && !h->record && ++h->streak >= h->quiet_threshold
            && !t->off && (h->pending || !t->has_after)) {
        if (set_events(h, t, 0) < 0)
            return NULL;
        t->off = 1;
        h->noff++;
        h->n_off++;
    }
#endif
    Py_RETURN_NONE;
}

static inline PyObject *
disable(void)
{
#if IL_MONITORING
    return Py_NewRef(DISABLE);
#else
    Py_RETURN_NONE;
#endif
}

/* sys.monitoring INSTRUCTION callback: (code, offset) */
static PyObject *
hook_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Hook *h = (Hook *)op;
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "Hook expects (code, offset)");
        return NULL;
    }
    PyObject *code = args[0];
    Table *t = h->last;
    if (t == NULL || t->code != code) {
        t = hook_find(h, code);
        if (t == NULL)
            return disable();
        h->last = t;
    }
    Py_ssize_t off = PyLong_AsSsize_t(args[1]);
    if (off == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t idx = off >> 1;
    if (idx < 0 || idx >= t->n || t->flags[idx] == 0)
        return disable();
    return decide(h, t, idx, t->flags[idx], NULL);
}

/* ------------------------------------------------------------------ C trace function (<= 3.11) */

#if !IL_MONITORING
static int
set_frame_flag(PyFrameObject *frame, PyObject *name, int value)
{
#if PY_VERSION_HEX < 0x030B0000
    if (name == str_f_trace_lines)
        frame->f_trace_lines = (char)value;
    else
        frame->f_trace_opcodes = (char)value;
    return 0;
#else
    return PyObject_SetAttr((PyObject *)frame, name, value ? Py_True : Py_False);
#endif
}

static int
hook_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    Hook *h = (Hook *)obj;
    if (what != PyTrace_OPCODE && what != PyTrace_CALL)
        return 0;
#if PY_VERSION_HEX < 0x030B0000
    PyObject *code = (PyObject *)frame->f_code;
#else
    PyObject *code = (PyObject *)PyFrame_GetCode(frame);
    Py_DECREF(code);     /* the frame keeps it alive */
#endif
    Table *t = h->last;
    if (t == NULL || t->code != code) {
        t = hook_find(h, code);
        if (t == NULL) {
            if (what != PyTrace_CALL)
                return 0;
            if (h->builder == NULL)
                return 0;
            PyObject *plan = PyObject_CallOneArg(h->builder, code);
            if (plan == NULL)
                return -1;
            t = table_new(code, plan);
            Py_DECREF(plan);
            if (t == NULL)
                return -1;
            Table *existing;
            int inserted = hook_insert(h, t, &existing);
            if (inserted != 0) {
                table_free(t);
                if (inserted < 0)
                    return -1;
                t = existing;
            }
        }
        h->last = t;
    }
    if (what == PyTrace_CALL) {
        if (set_frame_flag(frame, str_f_trace_lines, 0) < 0)
            return -1;
        if (t->steps != NULL && set_frame_flag(frame, str_f_trace_opcodes, 1) < 0)
            return -1;
        return 0;
    }
#if PY_VERSION_HEX < 0x030B0000
    Py_ssize_t idx = frame->f_lasti;     /* in code units */
#else
    Py_ssize_t idx = PyFrame_GetLasti(frame) >> 1;
#endif
    if (idx < 0 || idx >= t->n || t->flags[idx] == 0)
        return 0;
    PyObject *r = decide(h, t, idx, t->flags[idx], (PyObject *)frame);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}
#endif

/* ------------------------------------------------------------------ Hook methods */

static PyObject *
Hook_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"dispatch", "record", "need_frame", "monitoring", "tool",
                             "set_local_events", "builder", NULL};
    PyObject *dispatch, *sle = Py_None, *builder = Py_None;
    int record = 0, need_frame = 0, monitoring = 0, tool = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$pppiOO", kwlist, &dispatch, &record,
                                     &need_frame, &monitoring, &tool, &sle, &builder))
        return NULL;
#if !IL_MONITORING
    if (monitoring) {
        PyErr_SetString(PyExc_ValueError, "sys.monitoring needs Python 3.12+");
        return NULL;
    }
#endif
    if (monitoring && sle == Py_None) {
        PyErr_SetString(PyExc_TypeError, "monitoring needs set_local_events");
        return NULL;
    }
    if (!monitoring && builder == Py_None) {
        PyErr_SetString(PyExc_TypeError, "a trace function needs a builder");
        return NULL;
    }
    Hook *h = (Hook *)type->tp_alloc(type, 0);
    if (h == NULL)
        return NULL;
    h->vectorcall = hook_vectorcall;
    h->dispatch = Py_NewRef(dispatch);
    h->set_local_events = Py_NewRef(sle);
    h->builder = Py_NewRef(builder);
    h->record = record;
    h->need_frame = need_frame;
    h->monitoring = monitoring;
    h->tool = tool;
    h->alone = -1;
    h->quiet_until = -1;
    h->max_steps = PY_SSIZE_T_MAX;
    h->quiet_threshold = QUIET_THRESHOLD;
    for (int i = 0; i < FL_COUNT; i++)
        h->values[i] = NULL;
    return (PyObject *)h;
}

static int
Hook_traverse(Hook *h, visitproc visit, void *arg)
{
    Py_VISIT(h->dispatch);
    Py_VISIT(h->builder);
    Py_VISIT(h->set_local_events);
    Py_VISIT(h->quiet_fn);
    Py_VISIT(h->walk_random);
    Py_VISIT(h->switch_fn);
    for (int i = 0; i < FL_COUNT; i++)
        Py_VISIT(h->values[i]);
    for (Py_ssize_t i = 0; i < h->nall; i++) {
        Py_VISIT(h->all[i]->code);
        Py_VISIT(h->all[i]->steps);
    }
    return 0;
}

static int
Hook_clear(Hook *h)
{
    Py_CLEAR(h->dispatch);
    Py_CLEAR(h->builder);
    Py_CLEAR(h->set_local_events);
    Py_CLEAR(h->quiet_fn);
    Py_CLEAR(h->walk_random);
    Py_CLEAR(h->switch_fn);
    for (int i = 0; i < FL_COUNT; i++)
        Py_CLEAR(h->values[i]);
    return 0;    /* the tables only reference code objects and plans: no cycles through them */
}

static void
Hook_dealloc(Hook *h)
{
    PyObject_GC_UnTrack(h);
    Hook_clear(h);
    for (Py_ssize_t i = 0; i < h->nall; i++)
        table_free(h->all[i]);
    PyMem_Free(h->all);
    PyMem_Free(h->run_ident);
    PyMem_Free(h->slots);
    for (int i = 0; i < h->nretired; i++)
        PyMem_Free(h->retired_slots[i]);
    Py_TYPE(h)->tp_free((PyObject *)h);
}

static PyObject *
Hook_add(Hook *h, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add(code, plan)");
        return NULL;
    }
    Table *t = table_new(args[0], args[1]);
    if (t == NULL)
        return NULL;
    Table *existing;
    int inserted = hook_insert(h, t, &existing);
    if (inserted != 0) {   /* 1: added meanwhile by another thread; its table stands */
        table_free(t);
        if (inserted < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Hook_bind(Hook *h, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"max_steps", "quiet_until", "random_walk", "switch_to", NULL};
    Py_ssize_t max_steps;
    PyObject *quiet = Py_None, *walk = Py_None, *switch_fn = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|OOO", kwlist, &max_steps, &quiet, &walk,
                                     &switch_fn))
        return NULL;
    PyObject *random = NULL;
    double p = 0;
    Py_ssize_t from = 0;
    if (walk != Py_None) {
        if (!PyArg_ParseTuple(walk, "Odn;random_walk: (random, p, first_step)", &random, &p, &from))
            return NULL;
        if (!PyCallable_Check(random) || !PyCallable_Check(switch_fn)) {
            PyErr_SetString(PyExc_TypeError, "a random walk needs random() and switch_to()");
            return NULL;
        }
    }
    h->max_steps = max_steps;
    Py_XSETREF(h->quiet_fn, quiet == Py_None ? NULL : Py_NewRef(quiet));
    Py_XSETREF(h->walk_random, random == NULL ? NULL : Py_NewRef(random));
    Py_XSETREF(h->switch_fn, random == NULL ? NULL : Py_NewRef(switch_fn));
    h->walk_p = p;
    h->walk_from = from;
    h->bound = 1;
    Py_RETURN_NONE;
}

static PyObject *
Hook_stats(Hook *h, PyObject *unused)
{
    return Py_BuildValue("{sLsLsLsLsLsLsnsn}", "fast", h->n_fast, "slow", h->n_slow,
                         "quiet_steps", h->n_quiet_steps, "walk_steps", h->n_walk_steps,
                         "events_off", h->n_off,
                         "events_on", h->n_on, "tables", h->nall, "off_now", h->noff);
}

static PyObject *
Hook_get_threshold(Hook *h, void *closure)
{
    return PyLong_FromSsize_t(h->quiet_threshold);
}

static int
Hook_set_threshold(Hook *h, PyObject *v, void *closure)
{
    Py_ssize_t n = v ? PyLong_AsSsize_t(v) : -1;
    if (n == -1 && PyErr_Occurred())
        return -1;
    h->quiet_threshold = n < 1 ? PY_SSIZE_T_MAX : n;
    return 0;
}

static PyMethodDef Hook_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Hook_add, METH_FASTCALL,
     "add(code, plan): the plan of a code object (a list of PlanEntry or None); a code "
     "object that has one already keeps it"},
    {"bind", (PyCFunction)(void (*)(void))Hook_bind, METH_VARARGS | METH_KEYWORDS,
     "bind(max_steps, quiet_until=None, random_walk=None, switch_to=None): the flags are "
     "mirrored from here on"},
    {"stats", (PyCFunction)Hook_stats, METH_NOARGS, "counters (for tests and benchmarks)"},
    {NULL}
};

static PyGetSetDef Hook_getset[] = {
    {"quiet_threshold", (getter)Hook_get_threshold, (setter)Hook_set_threshold,
     "no-op calls in a row, while alone, before events go off (0: never)", NULL},
    {NULL}
};

static PyTypeObject HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "interlace._accel.Hook",
    .tp_basicsize = sizeof(Hook),
    .tp_dealloc = (destructor)Hook_dealloc,
    .tp_vectorcall_offset = offsetof(Hook, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Hook_traverse,
    .tp_clear = (inquiry)Hook_clear,
    .tp_new = Hook_new,
    .tp_methods = Hook_methods,
    .tp_getset = Hook_getset,
};

/* ------------------------------------------------------------------ Flag descriptor */

/* values[] as written, for reads from Python: free-threaded, the watchdog thread writes some
 * while the running thread reads them, so both sides swap or copy under the hook's mutex. */
static void
value_store(Hook *h, int which, PyObject *value)
{
    Py_INCREF(value);
    HOOK_LOCK(h);
    PyObject *old = h->values[which];
    h->values[which] = value;
    HOOK_UNLOCK(h);
    Py_XDECREF(old);
}

static PyObject *
value_load(Hook *h, int which)
{
    HOOK_LOCK(h);
    PyObject *v = Py_XNewRef(h->values[which]);
    HOOK_UNLOCK(h);
    return v;
}

typedef struct {
    PyObject_HEAD
    Hook *hook;
    int which;
} Flag;

static PyObject *
Flag_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *hook;
    const char *name;
    if (!PyArg_ParseTuple(args, "O!s", &HookType, &hook, &name))
        return NULL;
    int which = -1;
    for (int i = 0; i < FL_COUNT; i++)
        if (strcmp(name, flag_names[i]) == 0)
            which = i;
    if (which < 0) {
        PyErr_Format(PyExc_ValueError, "no mirrored attribute %s", name);
        return NULL;
    }
    Flag *f = (Flag *)type->tp_alloc(type, 0);
    if (f == NULL)
        return NULL;
    f->hook = (Hook *)Py_NewRef(hook);
    f->which = which;
    return (PyObject *)f;
}

static int
Flag_traverse(Flag *f, visitproc visit, void *arg)
{
    Py_VISIT(f->hook);
    return 0;
}

static int
Flag_clear(Flag *f)
{
    Py_CLEAR(f->hook);
    return 0;
}

static void
Flag_dealloc(Flag *f)
{
    PyObject_GC_UnTrack(f);
    Flag_clear(f);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static PyObject *
Flag_get(Flag *f, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(f);
    Hook *h = f->hook;
    if (h == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cleared");
        return NULL;
    }
    switch (f->which) {
    case FL_STEP:
        return PyLong_FromSsize_t(h->step);
    case FL_POINTS:
        return PyLong_FromSsize_t(h->points);
    case FL_PENDING:
        return PyBool_FromLong(h->pending);
    case FL_RUNNABLE: {
        PyObject *v = value_load(h, FL_RUNNABLE);
        return v != NULL ? v : Py_NewRef(Py_None);
    }
    default: {
        PyObject *v = value_load(h, f->which);
        if (v == NULL)
            PyErr_Format(PyExc_AttributeError, "%s is not set", flag_names[f->which]);
        return v;
    }
    }
}

static int
Flag_set(Flag *f, PyObject *obj, PyObject *value)
{
    Hook *h = f->hook;
    if (h == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cleared");
        return -1;
    }
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "cannot delete %s", flag_names[f->which]);
        return -1;
    }
    switch (f->which) {
    case FL_ALONE:
        STORE(h->alone, value == Py_True ? 1 : value == Py_False ? 0 : -1);
        h->quiet_until = -1;                       /* the runnable set or the turn changed */
        runnable_replace(h, NULL, NULL, 0);
        value_store(h, FL_ALONE, value);
        if (value != Py_True)
            return hook_wake(h);
        return 0;
    case FL_OUTSIDE: {
        Py_ssize_t n = PyLong_AsSsize_t(value);
        if (n == -1 && PyErr_Occurred())
            return -1;
        STORE(h->outside, n);
        h->quiet_until = -1;
        value_store(h, FL_OUTSIDE, value);
        if (n != 0)
            return hook_wake(h);
        return 0;
    }
    case FL_PENDING: {
        int truth = PyObject_IsTrue(value);
        if (truth < 0)
            return -1;
        h->pending = truth;
        if (!truth && h->noff)   /* code with a C-call check may be off: wake (hook_wake copies) */
            return hook_wake(h);
        return 0;
    }
    case FL_RUNNABLE:
        return runnable_publish(h, value);
    case FL_RUNNING: {
        unsigned long ident = value == Py_None ? 0UL : PyLong_AsUnsignedLong(value);
        if (ident == (unsigned long)-1 && PyErr_Occurred())
            return -1;
        STORE(h->running, ident);
        value_store(h, FL_RUNNING, value);
        return 0;
    }
    default: {
        Py_ssize_t n = PyLong_AsSsize_t(value);
        if (n == -1 && PyErr_Occurred())
            return -1;
        if (f->which == FL_STEP)
            h->step = n;
        else
            h->points = n;
        return 0;
    }
    }
}

static PyObject *
Flag_get_hook(Flag *f, void *closure)
{
    return Py_NewRef((PyObject *)f->hook);
}

static PyGetSetDef Flag_getset[] = {
    {"hook", (getter)Flag_get_hook, NULL, "the Hook this attribute is mirrored into", NULL},
    {NULL}
};

static PyTypeObject FlagType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "interlace._accel.Flag",
    .tp_basicsize = sizeof(Flag),
    .tp_dealloc = (destructor)Flag_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Flag_traverse,
    .tp_clear = (inquiry)Flag_clear,
    .tp_new = Flag_new,
    .tp_descr_get = (descrgetfunc)Flag_get,
    .tp_descr_set = (descrsetfunc)Flag_set,
    .tp_getset = Flag_getset,
};

/* ------------------------------------------------------------------ Baton */

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;
    int locked;
} Baton;

static PyObject *
Baton_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) || (kwds && PyDict_GET_SIZE(kwds))) {
        PyErr_SetString(PyExc_TypeError, "Baton() takes no arguments");
        return NULL;
    }
    Baton *b = (Baton *)type->tp_alloc(type, 0);
    if (b == NULL)
        return NULL;
    b->lock = PyThread_allocate_lock();
    if (b->lock == NULL) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_MemoryError, "cannot allocate a lock");
        return NULL;
    }
    return (PyObject *)b;
}

static void
Baton_dealloc(Baton *b)
{
    if (b->lock != NULL) {
        if (LOAD(b->locked))
            PyThread_release_lock(b->lock);
        PyThread_free_lock(b->lock);
    }
    Py_TYPE(b)->tp_free((PyObject *)b);
}

/* Wait for ``b`` with the GIL dropped; optionally release ``to`` first (same GIL-free section;
 * the caller has marked it unlocked). */
static int
baton_wait(Baton *b, Baton *to)
{
    PyLockStatus r;
    Py_BEGIN_ALLOW_THREADS
    if (to != NULL)
        PyThread_release_lock(to->lock);
    r = PyThread_acquire_lock_timed(b->lock, -1, 1);
    Py_END_ALLOW_THREADS
    while (r == PY_LOCK_INTR) {
        if (PyErr_CheckSignals() < 0)     /* runs signal handlers (main thread) */
            return -1;
        Py_BEGIN_ALLOW_THREADS
        r = PyThread_acquire_lock_timed(b->lock, -1, 1);
        Py_END_ALLOW_THREADS
    }
    if (r != PY_LOCK_ACQUIRED) {
        PyErr_SetString(PyExc_RuntimeError, "cannot acquire a baton");
        return -1;
    }
    STORE(b->locked, 1);
    return 0;
}

static PyObject *
Baton_acquire(Baton *b, PyObject *unused)
{
    if (PyThread_acquire_lock(b->lock, 0)) {
        STORE(b->locked, 1);
        Py_RETURN_TRUE;
    }
    if (baton_wait(b, NULL) < 0)
        return NULL;
    Py_RETURN_TRUE;
}

static PyObject *
Baton_release(Baton *b, PyObject *unused)
{
    if (!EXCHANGE(b->locked, 0)) {     /* one release per acquire, even when two threads race */
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    PyThread_release_lock(b->lock);
    Py_RETURN_NONE;
}

static PyObject *
Baton_locked(Baton *b, PyObject *unused)
{
    return PyBool_FromLong(LOAD(b->locked));
}

static PyMethodDef Baton_methods[] = {
    {"acquire", (PyCFunction)Baton_acquire, METH_NOARGS, "wait for the baton (GIL dropped)"},
    {"release", (PyCFunction)Baton_release, METH_NOARGS, "hand the baton over"},
    {"locked", (PyCFunction)Baton_locked, METH_NOARGS, NULL},
    {NULL}
};

static PyTypeObject BatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "interlace._accel.Baton",
    .tp_basicsize = sizeof(Baton),
    .tp_dealloc = (destructor)Baton_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Baton_new,
    .tp_methods = Baton_methods,
};

/* ------------------------------------------------------------------ module functions */

static PyObject *
handoff(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyObject_TypeCheck(args[0], &BatonType)
            || !PyObject_TypeCheck(args[1], &BatonType)) {
        PyErr_SetString(PyExc_TypeError, "handoff(to: Baton, me: Baton)");
        return NULL;
    }
    Baton *to = (Baton *)args[0], *me = (Baton *)args[1];
    if (!EXCHANGE(to->locked, 0)) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    if (baton_wait(me, to) < 0)
        return NULL;
    Py_RETURN_NONE;
}

#if !IL_MONITORING
static PyObject *
settrace(PyObject *module, PyObject *arg)
{
    if (arg == Py_None) {
        PyEval_SetTrace(NULL, NULL);
        Py_RETURN_NONE;
    }
    if (!PyObject_TypeCheck(arg, &HookType) || ((Hook *)arg)->monitoring) {
        PyErr_SetString(PyExc_TypeError, "settrace(hook): a Hook made with a builder, or None");
        return NULL;
    }
    PyEval_SetTrace(hook_trace, arg);
    Py_RETURN_NONE;
}
#endif

static PyMethodDef module_methods[] = {
    {"handoff", (PyCFunction)(void (*)(void))handoff, METH_FASTCALL,
     "handoff(to, me): release baton ``to`` and wait for ``me``, GIL dropped throughout"},
#if !IL_MONITORING
    {"settrace", settrace, METH_O,
     "settrace(hook or None): the C trace function of the calling thread"},
#endif
    {NULL}
};

static int
module_exec(PyObject *m)
{
    /* The statics are process-wide and immortal-ish: made once, even when the module is
     * executed again (imported anew after removal from sys.modules). */
#define INTERN(var, text) if (var == NULL && (var = PyUnicode_InternFromString(text)) == NULL) return -1
    INTERN(str_switch, "switch");
    INTERN(str_kind, "kind");
    INTERN(str_after, "switch_after_c_call");
    INTERN(str_f_trace_lines, "f_trace_lines");
    INTERN(str_f_trace_opcodes, "f_trace_opcodes");
    INTERN(str_ident, "ident");
#undef INTERN
#if IL_MONITORING
    PyObject *mon = PySys_GetObject("monitoring");    /* borrowed */
    if (mon == NULL) {
        PyErr_SetString(PyExc_ImportError, "sys.monitoring is missing");
        return -1;
    }
    if (DISABLE == NULL && (DISABLE = PyObject_GetAttrString(mon, "DISABLE")) == NULL)
        return -1;
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        return -1;
    PyObject *ev = PyObject_GetAttrString(events, "INSTRUCTION");
    Py_DECREF(events);
    if (ev == NULL)
        return -1;
    EV_INSTRUCTION = PyLong_AsLong(ev);
    Py_DECREF(ev);
    if (EV_INSTRUCTION == -1 && PyErr_Occurred())
        return -1;
#endif
    if (PyType_Ready(&HookType) < 0 || PyType_Ready(&FlagType) < 0 || PyType_Ready(&BatonType) < 0)
        return -1;
    if (PyModule_AddObjectRef(m, "Hook", (PyObject *)&HookType) < 0
            || PyModule_AddObjectRef(m, "Flag", (PyObject *)&FlagType) < 0
            || PyModule_AddObjectRef(m, "Baton", (PyObject *)&BatonType) < 0
            || PyModule_AddIntConstant(m, "MONITORING", IL_MONITORING) < 0
            || PyModule_AddIntConstant(m, "QUIET_THRESHOLD", QUIET_THRESHOLD) < 0)
        return -1;
    PyObject *names = PyTuple_New(FL_COUNT);
    if (names == NULL)
        return -1;
    for (int i = 0; i < FL_COUNT; i++) {
        PyObject *name = PyUnicode_FromString(flag_names[i]);
        if (name == NULL) {
            Py_DECREF(names);
            return -1;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    int rc = PyModule_AddObjectRef(m, "FLAGS", names);
    Py_DECREF(names);
    return rc;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "interlace._accel",
    .m_doc = "C accelerator of interlace's per-instruction hooks and thread hand-off.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    return PyModuleDef_Init(&module_def);
}
