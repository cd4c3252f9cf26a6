"""The models of the article's shop, with racelab's table names, so Django's SQL and
racelab's read alike (demos/product.c, demos/coupon.c), plus the tables the fixes
need: a version column (optimistic), a unique redemption (unique), seats (tickets).
"""
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    number_sold = models.IntegerField(default=0)

    class Meta:
        db_table = 'products'


class VersionedProduct(models.Model):
    """The optimistic strategy's product: the version says whether the row changed."""
    name = models.CharField(max_length=100)
    number_sold = models.IntegerField(default=0)
    version = models.IntegerField(default=0)

    class Meta:
        db_table = 'versioned_products'


class Coupon(models.Model):
    code = models.CharField(max_length=16, primary_key=True)
    redeemed = models.BooleanField(default=False)
    discount = models.IntegerField()

    class Meta:
        db_table = 'coupons'


class Redemption(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, db_column='coupon_code')
    customer = models.CharField(max_length=24)

    class Meta:
        db_table = 'redemptions'


class UniqueRedemption(models.Model):
    """unique=True on the coupon (a OneToOneField is a unique ForeignKey): the
    database refuses a second redemption of the same coupon."""
    coupon = models.OneToOneField(Coupon, on_delete=models.CASCADE, db_column='coupon_code')
    customer = models.CharField(max_length=24)

    class Meta:
        db_table = 'unique_redemptions'


class Seat(models.Model):
    booked_by = models.CharField(max_length=24, null=True)

    class Meta:
        db_table = 'seats'
