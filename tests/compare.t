#!/usr/bin/env perl
# compare.t: racelab compare, the cost table, on real databases.  Every strategy
# of each scenario runs alone; the table has one row per strategy; every safe one
# keeps its invariant and naive breaks it; the failures the fixes pay are the
# ones their design says (deferred on SQLite and nowait fail requests; unique's
# refusals are answered, not failed); --json holds the same strategies; bad
# input is refused with 64.  SQLite, and PostgreSQL when make test started one.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my %ladder = (product => [qw(naive atomic locked deferred optimistic serializable)],
              coupon => [qw(naive atomic locked unique nowait)]);
my %ops = (product => 300, coupon => 40);

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());
    for my $scenario (qw(product coupon)) {
        my $tmp = private_tmp();
        my @cmd = ('compare', $scenario, @db, '-t', 4, '-n', $ops{$scenario}, '--seed', 3);
        my ($status, $out, $err) = racelab(\@cmd, TMPDIR => $tmp);
        is($status, 0, "$backend/compare $scenario: exit 0") or diag($err);
        like($out, qr/^racelab \S+: compare: $scenario on $backend, 4 threads x $ops{$scenario} \w+ per strategy, think \d+ ms, seed 3$/m,
             "$backend/compare $scenario: the header names scenario, backend, threads, ops and seed");
        my %row;
        for my $line (split /\n/, $out) {
            my @f = split ' ', $line;
            next unless @f >= 9 && $f[1] =~ /^(kept|broken|BUG|n\/a)$/;
            $row{$f[0]} = {invariant => $f[1], anomalies => $f[2], failed => $f[7],
                           reasons => join(' ', @f[8 .. $#f])};
        }
        is_deeply([sort keys %row], [sort @{ $ladder{$scenario} }],
                  "$backend/compare $scenario: one row per strategy");
        is($row{naive} && $row{naive}{invariant}, 'broken', "$backend/compare $scenario: naive breaks the invariant");
        my @unsafe = grep { $_ ne 'naive' && $row{$_} && $row{$_}{invariant} ne 'kept' } keys %row;
        is_deeply(\@unsafe, [], "$backend/compare $scenario: every other strategy keeps it");
        if ($scenario eq 'coupon') {
            like($row{unique}{reasons} // '', qr/^refused x [1-9]\d*$/,
                 "$backend/compare coupon: unique's losers are refused, none failed");
            is($row{unique}{failed}, 0, "$backend/compare coupon: unique fails no request");
            my $code = $backend eq 'postgres' ? '55P03' : 'SQLITE_BUSY';
            like($row{nowait}{reasons} // '', qr/^\Q$code\E x [1-9]\d*$/,
                 "$backend/compare coupon: nowait's losers fail at once with $code");
        } else {
            my @failing = sort grep { $row{$_}{failed} } keys %row;
            # Four threads on one row: SQLite's deferred transactions fail nearly
            # always; PostgreSQL's FOR UPDATE makes deferred wait instead.
            is_deeply(\@failing, $backend eq 'sqlite' ? ['deferred'] : [],
                      "$backend/compare product: only " . ($backend eq 'sqlite' ? 'deferred fails' : 'nothing fails'));
        }
        opendir my $dh, $tmp or die;
        is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], "$backend/compare $scenario: nothing left in TMPDIR");

        my ($js, $r) = racelab_json(['compare', $scenario, @db, '-n', 5, '-s', 'naive,atomic']);
        is($js, 0, "$backend/compare $scenario --json: exit 0");
        is_deeply([map { $_->{strategy} } @{ $r->{strategies} // [] }], ['naive', 'atomic'],
                  "$backend/compare $scenario --json -s naive,atomic: those two, in order");
    }
}

for my $bad ([['compare', 'inventory'], "unknown scenario 'inventory'"],
             [['compare', '--schedule', 't1.read'], '--schedule has no place'],
             [['compare', '-s', 'naive,pessimistic'], "unknown strategy 'pessimistic'"]) {
    my ($args, $mention) = @$bad;
    my ($status, $out, $err) = racelab($args);
    is($status, 64, "racelab @$args: 64");
    like($err, qr/^racelab: [^\n]*\Q$mention\E[^\n]*\n\z/, "racelab @$args: one line naming $mention");
}
done_testing();
