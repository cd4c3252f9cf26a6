#!/usr/bin/python3
"""run.py: run one strategy of the article's Django code with real threads against
SQLite (a WAL file in a fresh temp dir, as racelab's) or the PostgreSQL named by
RACELAB_TEST_PG (in a private schema), and print the figures as one JSON object.

    run.py [-b sqlite|postgres] SCENARIO STRATEGY [-t THREADS] [-n OPS] [-r REPEATS] [--sql]

SCENARIO is product, coupon or tickets; STRATEGY a key of djref/workloads.py's
tables.  Each repeat starts from fresh tables.  Coupon runs in rounds like racelab's:
every round a fresh coupon, all threads released at a barrier to redeem it.
--sql then runs one request on one thread, on fresh tables, and lists the statements
Django sent (-r 0: only that):
the SQL through connection.execute_wrapper(), and the transaction control Django
does through the driver (psycopg2 sends BEGIN itself before the first statement
after autocommit is switched off; commit()/rollback() send COMMIT/ROLLBACK).

Exit status: 0 done; 64 bad arguments; 69 the database is unavailable.
Everything it makes (temp dir, schema) is removed before it exits.
"""
import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = ('product', 'coupon', 'tickets')
DISCOUNT = 25
LEVELS = {1: 'READ COMMITTED', 2: 'REPEATABLE READ', 3: 'SERIALIZABLE', 4: 'READ UNCOMMITTED'}


def parse_args():
    ap = argparse.ArgumentParser(prog='run.py')
    ap.add_argument('-b', '--backend', choices=('sqlite', 'postgres'), default='sqlite')
    ap.add_argument('scenario', choices=SCENARIOS)
    ap.add_argument('strategy')
    ap.add_argument('-t', '--threads', type=int, default=4)
    ap.add_argument('-n', '--ops', type=int, default=300)
    ap.add_argument('-r', '--repeat', type=int, default=1)
    ap.add_argument('--sql', action='store_true')
    try:
        a = ap.parse_args()
    except SystemExit as e:
        sys.exit(64 if e.code else 0)
    if not 1 <= a.threads <= 64 or a.ops < 1 or a.repeat < 0:
        print('run.py: -t must be 1-64, -n at least 1, -r at least 0', file=sys.stderr)
        sys.exit(64)
    return a


class Request:
    """What one thread's requests did: committed, retried, refused, failed."""

    def __init__(self, thread):
        self.thread = thread
        self.customer = 'customer%d' % (thread + 1)
        self.committed = 0
        self.retries = 0
        self.failures = collections.Counter()   # errors a user sees as a 500
        self.refusals = collections.Counter()   # errors the app turned into an answer

    def refuse(self, reason):
        self.refusals[reason] += 1


# ------------------------------------------------------------------ tables

def models_of(scenario, strategy):
    from djref import models as m
    if scenario == 'product':
        return [m.VersionedProduct if strategy == 'optimistic' else m.Product]
    if scenario == 'coupon':
        return [m.Coupon, m.UniqueRedemption if strategy == 'unique' else m.Redemption]
    return [m.Seat]


def create_tables(backend, scenario, strategy, threads, ops):
    from django.db import connection
    from djref import models as m
    tables = models_of(scenario, strategy)
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as ed:
        for model in reversed(tables):
            if model._meta.db_table in existing:
                ed.delete_model(model)
        for model in tables:
            ed.create_model(model)
    if backend == 'sqlite':
        with connection.cursor() as cur:    # WAL is the file's: every connection gets it
            cur.execute('PRAGMA journal_mode = WAL')
    if scenario == 'product':
        tables[0].objects.create(id=1, name='Widget', number_sold=0)
    elif scenario == 'coupon':
        m.Coupon.objects.bulk_create(
            m.Coupon(code='C%04d' % (i + 1), redeemed=False, discount=DISCOUNT)
            for i in range(ops))
    else:
        m.Seat.objects.bulk_create(m.Seat() for _ in range(threads * ops))
    return tables


def check(scenario, tables, committed, rounds):
    """expected/observed/anomalies as racelab's report defines them."""
    from django.db.models import Count
    if scenario == 'product':
        observed = tables[0].objects.get(id=1).number_sold
        return {'expected': committed, 'observed': observed,
                'anomalies': committed - observed}
    if scenario == 'coupon':
        red = tables[1].objects
        observed = red.count()
        distinct = red.values('coupon').distinct().count()
        twice = red.values('coupon').annotate(n=Count('id')).filter(n__gt=1).count()
        return {'expected': rounds, 'observed': observed, 'anomalies': observed - distinct,
                'double_redeemed': twice, 'discount_lost': (observed - distinct) * DISCOUNT}
    booked = tables[0].objects.exclude(booked_by=None).count()
    return {'expected': committed, 'observed': booked, 'anomalies': committed - booked}


# ------------------------------------------------------------------ free runs

def run_once(args, op):
    from django.db import DatabaseError, connection
    from djref.workloads import error_reason
    reqs = [Request(i) for i in range(args.threads)]
    barrier = threading.Barrier(args.threads)
    crashed = []

    def worker(req):
        try:
            for i in range(args.ops):
                if args.scenario == 'coupon':
                    barrier.wait(timeout=120)
                try:
                    if (op(req, 'C%04d' % (i + 1)) if args.scenario == 'coupon'
                            else op(req)):
                        req.committed += 1
                except DatabaseError as e:
                    req.failures[error_reason(e)] += 1
        except BaseException as e:          # not a database error: a bug here
            crashed.append('%s: %s' % (type(e).__name__, e))
            barrier.abort()
        finally:
            connection.close()              # this thread's own connection

    threads = [threading.Thread(target=worker, args=(r,)) for r in reqs]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    if crashed:
        raise RuntimeError('a worker crashed: ' + crashed[0])
    failures, refusals = collections.Counter(), collections.Counter()
    for r in reqs:
        failures.update(r.failures)
        refusals.update(r.refusals)
    out = {'attempted': args.threads * args.ops,
           'committed': sum(r.committed for r in reqs),
           'retries': sum(r.retries for r in reqs),
           'failed': sum(failures.values()), 'failures': dict(failures),
           'refused': sum(refusals.values()), 'refusals': dict(refusals),
           'elapsed_s': round(elapsed, 3)}
    return out


# ------------------------------------------------------------------ one request's SQL

def capture_sql(args, op):
    """Run one request on this thread and list what went to the database, in order."""
    from django.db import connection
    sent = []
    pg = connection.vendor == 'postgresql'
    state = {'begin_pending': False}

    def note(sql, how):
        sent.append({'sql': sql, 'via': how})

    def wrapper(execute, sql, params, many, context):
        if state['begin_pending']:
            state['begin_pending'] = False
            # psycopg2's own text (checked against the server's log_statement=all):
            # BEGIN, or BEGIN ISOLATION LEVEL … once set_session() chose a level.
            level = connection.connection.isolation_level
            note('BEGIN' + ('' if level is None else ' ISOLATION LEVEL '
                            + LEVELS.get(level, str(level))),
                 'psycopg2, before the first statement of the transaction')
        shown = sql
        if params:
            try:
                shown = sql % tuple(repr(p) for p in params)
            except (TypeError, ValueError):
                shown = '%s  -- %r' % (sql, params)
        note(shown, 'cursor.execute')
        return execute(sql, params, many, context)

    set_autocommit, commit, rollback = (connection._set_autocommit, connection._commit,
                                        connection._rollback)

    def hooked_set_autocommit(autocommit):
        if pg and not autocommit:
            state['begin_pending'] = True
        return set_autocommit(autocommit)

    def in_transaction():
        if state['begin_pending']:
            return False                    # nothing was sent: psycopg2 sends nothing either
        raw = connection.connection
        if pg:
            from psycopg2.extensions import STATUS_READY
            return raw.status != STATUS_READY
        return raw.in_transaction

    def hooked_commit():
        if in_transaction():
            note('COMMIT', 'connection.commit()')
        state['begin_pending'] = False
        return commit()

    def hooked_rollback():
        if in_transaction():
            note('ROLLBACK', 'connection.rollback()')
        state['begin_pending'] = False
        return rollback()

    connection.ensure_connection()
    connection._set_autocommit = hooked_set_autocommit
    connection._commit = hooked_commit
    connection._rollback = hooked_rollback
    req = Request(0)
    try:
        with connection.execute_wrapper(wrapper):
            did = op(req, 'C0001') if args.scenario == 'coupon' else op(req)
    finally:
        del connection._set_autocommit, connection._commit, connection._rollback
        connection.close()
    return {'did_work': bool(did), 'statements': sent}


# ------------------------------------------------------------------ places

class Place:
    """The database this run uses, made here and removed at exit."""

    def __init__(self, backend):
        self.backend = backend
        self.tmp = self.schema = None

    def __enter__(self):
        os.environ['RACELAB_DJANGO_BACKEND'] = self.backend
        if self.backend == 'sqlite':
            self.tmp = tempfile.mkdtemp(prefix='racelab-django-')
            os.environ['RACELAB_DJANGO_SQLITE'] = os.path.join(self.tmp, 'shop.db')
            return self
        import psycopg2
        if not os.environ.get('RACELAB_TEST_PG'):
            print('run.py: postgres needs RACELAB_TEST_PG (a libpq conninfo)', file=sys.stderr)
            sys.exit(64)
        self.schema = 'djref_%d_%s' % (os.getpid(), uuid.uuid4().hex[:8])
        try:
            self._control('CREATE SCHEMA %s' % self.schema)
        except psycopg2.Error as e:
            print('run.py: PostgreSQL unavailable: %s' % str(e).splitlines()[0],
                  file=sys.stderr)
            sys.exit(69)
        os.environ['RACELAB_DJANGO_SCHEMA'] = self.schema
        return self

    def _control(self, sql):
        import psycopg2
        conn = psycopg2.connect(os.environ['RACELAB_TEST_PG'])
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute('SET client_min_messages TO warning')
                cur.execute(sql)
        finally:
            conn.close()

    def __exit__(self, *exc):
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self.schema:
            self._control('DROP SCHEMA IF EXISTS %s CASCADE' % self.schema)
        return False


def main():
    args = parse_args()
    sys.dont_write_bytecode = True      # no __pycache__ left in the source tree
    sys.path.insert(0, HERE)
    os.environ['DJANGO_SETTINGS_MODULE'] = 'djref.settings'
    if args.backend == 'postgres' and args.scenario == 'product' \
            and args.strategy == 'serializable':
        os.environ['RACELAB_DJANGO_ISOLATION'] = 'serializable'
    with Place(args.backend):
        import django
        django.setup()
        from django.db import connection
        from djref import workloads
        table = {'product': workloads.PRODUCT, 'coupon': workloads.COUPON,
                 'tickets': workloads.TICKETS}[args.scenario]
        if args.strategy not in table:
            print("run.py: unknown strategy '%s' for %s: choose from %s"
                  % (args.strategy, args.scenario, ', '.join(table)), file=sys.stderr)
            sys.exit(64)
        op = table[args.strategy]
        report = {'django': django.get_version(), 'backend': args.backend,
                  'scenario': args.scenario, 'strategy': args.strategy,
                  'threads': args.threads, 'ops_per_thread': args.ops}
        if connection.vendor == 'sqlite':
            import sqlite3
            report['sqlite'] = sqlite3.sqlite_version
        try:
            report['runs'] = []
            for _ in range(args.repeat):
                tables = create_tables(args.backend, args.scenario, args.strategy,
                                       args.threads, args.ops)
                connection.close()          # the main thread's; workers open their own
                run = run_once(args, op)
                run.update(check(args.scenario, tables, run['committed'], args.ops))
                connection.close()
                report['runs'].append(run)
            if args.sql:
                create_tables(args.backend, args.scenario, args.strategy, 1, 1)
                connection.close()
                report.update(capture_sql(args, op))
        finally:
            connection.close()
    json.dump(report, sys.stdout, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
