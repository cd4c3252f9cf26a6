"""The Django code each strategy runs for one request, written as the article and
Django's documentation write it.  A function returns True when the request did its
work (a sale counted, a coupon redeemed, a seat booked) and False when the
application answered "nothing to do" (the coupon was already used); a database
error it does not handle propagates, and the harness counts the request as failed
(a user would see a 500).  `req` carries the request's customer name and counts
its retries and the errors the application turned into an answer (refusals).

Outcome classes the check compares with racelab (tests/django.t):
  loses updates  the invariant broke (a lost sale, a double redemption/booking)
  never loses    it held
  fails requests with an error class: busy (SQLite: database is locked),
                 55P03 lock not available, 40001 serialization, unique violation
"""
import random
import time

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F

from .models import Coupon, Product, Redemption, Seat, UniqueRedemption, VersionedProduct

MAX_ATTEMPTS = 1000     # serializable: retries until it commits, as a retry loop would


def error_reason(exc):
    """SQLSTATE on PostgreSQL, the SQLite result code's name on SQLite (Python >= 3.11
    names it; older ones give the message), from the driver's exception that Django
    wrapped."""
    cause = exc.__cause__ or exc
    code = getattr(cause, 'pgcode', None)
    if code:
        return code
    name = getattr(cause, 'sqlite_errorname', None)
    if name:
        return name
    return str(cause).splitlines()[0] if str(cause) else type(cause).__name__


def retryable(exc):
    """40001 on PostgreSQL; SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT: the
    deferred transaction's snapshot went stale) on SQLite."""
    reason = error_reason(exc)
    return reason == '40001' or reason.startswith('SQLITE_BUSY') \
        or reason == 'database is locked'


# ------------------------------------------------------------------ product

def product_naive(req):
    p = Product.objects.get(id=1)
    p.number_sold += 1
    p.save()
    return True


def product_f(req):
    p = Product.objects.get(id=1)
    p.number_sold = F('number_sold') + 1
    p.save()
    return True


def product_select_for_update(req):
    # Django's default atomic(): on SQLite a deferred BEGIN, and no FOR UPDATE.
    with transaction.atomic():
        p = Product.objects.select_for_update().get(id=1)
        p.number_sold += 1
        p.save()
    return True


def product_optimistic(req):
    while True:
        p = VersionedProduct.objects.get(id=1)
        won = VersionedProduct.objects.filter(id=1, version=p.version).update(
            number_sold=p.number_sold + 1, version=F('version') + 1)
        if won:
            return True
        req.retries += 1                # someone saved in between: read again


def product_serializable(req):
    # OPTIONS['isolation_level'] = SERIALIZABLE (settings.py) makes every transaction
    # serializable on PostgreSQL; the application retries the whole atomic() block.
    for attempt in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                p = Product.objects.get(id=1)
                p.number_sold += 1
                p.save()
            return True
        except OperationalError as e:
            if not retryable(e) or attempt == MAX_ATTEMPTS - 1:
                raise
            req.retries += 1
            time.sleep(random.uniform(0, min(0.02, 0.0005 * 2 ** min(attempt, 6))))


# ------------------------------------------------------------------ coupon

def coupon_naive(req, code):
    coupon = Coupon.objects.get(code=code)
    if coupon.redeemed:
        return False
    Redemption.objects.create(coupon=coupon, customer=req.customer)
    coupon.redeemed = True
    coupon.save()
    return True


def coupon_update(req, code):
    won = Coupon.objects.filter(code=code, redeemed=False).update(redeemed=True)
    if not won:
        return False
    Redemption.objects.create(coupon_id=code, customer=req.customer)
    return True


def _coupon_locked(req, code, **lock):
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update(**lock).get(code=code)
        if coupon.redeemed:
            return False
        Redemption.objects.create(coupon=coupon, customer=req.customer)
        coupon.redeemed = True
        coupon.save()
    return True


def coupon_select_for_update(req, code):
    return _coupon_locked(req, code)


def coupon_nowait(req, code):
    # PostgreSQL: a locked row raises 55P03 (OperationalError) at once.  SQLite: Django
    # drops FOR UPDATE, nowait included, without a word.
    return _coupon_locked(req, code, nowait=True)


def coupon_unique(req, code):
    coupon = Coupon.objects.get(code=code)
    if coupon.redeemed:
        return False
    try:
        with transaction.atomic():      # its own transaction: the error rolls back only this
            UniqueRedemption.objects.create(coupon=coupon, customer=req.customer)
    except IntegrityError as e:
        req.refuse(error_reason(e))     # "this coupon has already been used"
        return False
    coupon.redeemed = True
    coupon.save()
    return True


# ------------------------------------------------------------------ tickets

def _book(req, seat):
    if seat is None:
        req.refuse('no free seat')
        return False
    seat.booked_by = req.customer
    seat.save()
    return True


def tickets_naive(req):
    return _book(req, Seat.objects.filter(booked_by=None).order_by('id').first())


def tickets_select_for_update(req):
    with transaction.atomic():
        return _book(req, Seat.objects.select_for_update()
                     .filter(booked_by=None).order_by('id').first())


def tickets_skip_locked(req):
    # PostgreSQL: FOR UPDATE SKIP LOCKED.  SQLite: Django drops the clause silently.
    with transaction.atomic():
        return _book(req, Seat.objects.select_for_update(skip_locked=True)
                     .filter(booked_by=None).order_by('id').first())


# Strategy names as run.py takes them; tests/django.t pairs them with racelab's.
PRODUCT = {
    'naive': product_naive,
    'f': product_f,
    'select_for_update': product_select_for_update,
    'optimistic': product_optimistic,
    'serializable': product_serializable,
}
COUPON = {
    'naive': coupon_naive,
    'update': coupon_update,
    'select_for_update': coupon_select_for_update,
    'nowait': coupon_nowait,
    'unique': coupon_unique,
}
TICKETS = {
    'naive': tickets_naive,
    'select_for_update': tickets_select_for_update,
    'skip_locked': tickets_skip_locked,
}
