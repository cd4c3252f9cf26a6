#!/usr/bin/env perl
# orders.t: --schedule all, every interleaving of two threads' steps on a fresh
# database each, on both backends.  The counts of losing orders are worked out by
# hand, not recorded from a run:
#   product naive (read, write): of the 6 orders, only t1 then t2 whole and t2
#     then t1 whole keep both sales: 4 lose one.
#   coupon naive (check, redeem, mark): the coupon is redeemed twice unless one
#     thread marks it before the other checks: 2 of the 20 orders, so 18 fail.
#   atomic and locked, every order: none.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my %want = (
    product => { naive => [4, 6], atomic => [0, 2], locked => [0, 70] },
    coupon => { naive => [18, 20], atomic => [0, 6], locked => [0, 252] },
);

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());
    for my $scenario (qw(product coupon)) {
        my ($st, $rep, $err) = racelab_json([$scenario, @db, '--schedule', 'all']);
        is($st, 0, "$backend $scenario --schedule all: exit 0 (no safe strategy fails)")
            or diag($err);
        for my $s (@{$rep->{strategies} // []}) {
            my ($fail, $orders) = @{$want{$scenario}{$s->{strategy}}};
            is($s->{orders}, $orders, "$backend $scenario/$s->{strategy}: $orders orders");
            is($s->{failing}, $fail, "$backend $scenario/$s->{strategy}: $fail of them show"
               . " the anomaly");
            my %seen;
            $seen{$_->{order}}++ for @{$s->{runs}};
            is(scalar keys %seen, $orders, "$backend $scenario/$s->{strategy}: every order"
               . " is a different one");
            ok(!grep({ $_->{same_as} > 0 && !$seen{$s->{runs}[$_->{same_as} - 1]{order}} }
                     @{$s->{runs}}), "$backend $scenario/$s->{strategy}: 'ran as' points"
               . " at an earlier order");
        }
    }
    # The text: a line per order, a summary per strategy.
    my ($st, $out) = racelab(['product', '-s', 'naive', @db, '--schedule', 'all']);
    my @lines = grep { /^naive\s+\d+\s+t/ } split /\n/, $out;
    is(scalar @lines, 6, "$backend text: six lines, one per order");
    like($out, qr/^naive: 4 of 6 orders show a lost update/m, "$backend text: the summary");
    like($out, qr/^naive\s+\d+\s+t1\.read t2\.read t1\.write t2\.write\s+-> number_sold = 1/m,
         "$backend text: the losing order says what the database holds");
}

# Three threads of naive: 6!/(2!2!2!) = 90 orders; only the 6 where each thread
# reads and writes before the next one reads lose nothing.
my ($st, $rep) = racelab_json(['product', '-s', 'naive', '-t', '3', '--schedule', 'all']);
is($rep->{strategies}[0]{orders}, 90, 'three threads: 90 orders');
is($rep->{strategies}[0]{failing}, 84, 'three threads: all but the 6 serial orders lose');

for my $bad (['--schedule', 'all', '-t', '4'], ['coupon', '--schedule', 'all', '-t', '3'],
             ['--schedule', 'all', '--think', '5']) {
    my ($st, $out, $err) = racelab($bad);
    ok($st == 64 && $err =~ /^racelab: .*--schedule all|--think/, "@$bad: exit 64")
        or diag("exit $st: $err");
}
done_testing();
