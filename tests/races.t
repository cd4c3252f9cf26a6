#!/usr/bin/env perl
# races.t: on real databases, over repeated runs, every safe strategy (every one
# but naive: atomic, locked, and the fix ladder) never shows an anomaly and the
# database holds what the invariant demands, while naive shows the anomaly in nearly
# every run.  A safe strategy may fail requests where that is its cost by design
# (deferred, nowait, tickets' atomic on PostgreSQL, transfer's deadlock victims):
# failed requests commit nothing.  Each run cleans up after
# itself.  Runs on SQLite, and on PostgreSQL when make test started one.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my %ladder = (product => [qw(naive atomic locked deferred optimistic serializable)],
              coupon => [qw(naive atomic locked unique nowait)],
              tickets => [qw(naive atomic locked skip_locked)],
              transfer => [qw(naive locked ordered serializable)]);
# The strategies that may fail requests, by design: that is the cost they show.
my %fails_fast = map { $_ => 1 } qw(product/deferred coupon/nowait tickets/atomic
                                   transfer/locked transfer/serializable);
my $RUNS = $ENV{RACELAB_RUNS} // 20;
# Floors that cannot flake on two cores: measured rates are far above them (the
# diag lines print them).
my %floor = (product => 0.5, coupon => 0.75, tickets => 0.5, transfer => 0.5);
my %args = (product => ['-s', 'all', '-t', 4, '-n', 300],
            coupon => ['-s', 'all', '-t', 4, '-n', 40],
            tickets => ['-t', 4, '-n', 60], transfer => ['-t', 4, '-n', 60]);
# Per backend where it matters.  transfer/locked on PostgreSQL deadlocks often, and
# the server takes deadlock_timeout (1 s by default) to break each one: these runs
# ask for 50 ms instead (the test server's role may set it), and fewer transfers.
my %pg_args = (transfer => ['-t', 4, '-n', 15]);
# What transfer observes is money (the total), not a count of what committed.
my %money = (transfer => 1);
my %pg_env = (transfer => {PGOPTIONS => '-c deadlock_timeout=50ms'});

for my $b (backends()) {
    my ($backend, $where) = @$b;
    for my $scenario (qw(product coupon tickets transfer)) {
        my $tmp = private_tmp();
        my (%bad, %strategies);
        my ($naive_hits, $naive_lost, $runs_ok) = (0, 0, 0);
        my %fails;
        for my $i (1 .. $RUNS) {
            my $pg = $backend eq 'postgres';
            my @cmd = ($scenario, '-b', $backend,
                       @{ ($pg && $pg_args{$scenario}) || $args{$scenario} });
            push @cmd, '-d', $where if defined $where;
            my ($status, $r, $err) = racelab_json(\@cmd, TMPDIR => $tmp,
                                                  %{ ($pg && $pg_env{$scenario}) || {} });
            if (!$r || $status != 0) {
                $bad{"run $i: exit $status, $err"}++;
                next;
            }
            $runs_ok++;
            $strategies{$_->{strategy}}++ for @{ $r->{strategies} };
            for my $s (@{ $r->{strategies} }) {
                # Only the strategies that fail fast by design may fail a request.
                $bad{"$s->{strategy}: $s->{failed} failed"}++
                    if $s->{failed} && !$fails_fast{"$scenario/$s->{strategy}"};
                if ($s->{safe}) {
                    $bad{"$s->{strategy}: $s->{anomalies} anomalies"}++ if $s->{anomalies};
                    $bad{"$s->{strategy}: observed $s->{observed} != committed $s->{committed}"}++
                        if $s->{observed} != $s->{committed} && !$money{$scenario};
                    $bad{"$s->{strategy}: expected $s->{expected} != observed $s->{observed}"}++
                        if $s->{observed} != $s->{expected};
                    $fails{$s->{strategy}} += $s->{failed} // 0;
                } else {
                    $naive_hits++ if $s->{anomalies} > 0;
                    $naive_lost += $s->{anomalies};
                }
            }
        }
        is($runs_ok, $RUNS, "$backend/$scenario: $RUNS runs of 4 threads finish with exit 0");
        is_deeply(\%bad, {}, "$backend/$scenario: every safe strategy keeps the invariant"
            . " and observed = committed in every run");
        is_deeply([sort keys %strategies], [sort @{ $ladder{$scenario} }],
            "$backend/$scenario: -s all ran " . join(', ', @{ $ladder{$scenario} }));
        diag("$backend/$scenario: failed requests over $RUNS runs: "
            . join(', ', map { "$_ $fails{$_}" } sort keys %fails)) if %fails;
        my $rate = $naive_hits / $RUNS;
        diag(sprintf "$backend/$scenario: naive showed the anomaly in %d of %d runs (%.0f%%),"
            . " %.1f per run", $naive_hits, $RUNS, 100 * $rate, $naive_lost / $RUNS);
        cmp_ok($rate, '>=', $floor{$scenario},
            "$backend/$scenario: naive shows the anomaly in at least "
            . ($floor{$scenario} * 100) . "% of runs");
        opendir my $dh, $tmp or die;
        my @left = grep { !/^\.\.?$/ } readdir $dh;
        is_deeply(\@left, [], "$backend/$scenario: nothing is left in TMPDIR after the runs");
    }
}
done_testing();
