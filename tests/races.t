#!/usr/bin/env perl
# races.t: on real databases, over repeated runs, every safe strategy (atomic,
# locked, and the fix ladder: deferred, optimistic, serializable, unique, nowait)
# never shows an anomaly and the database holds exactly what it committed, while
# naive shows the anomaly in nearly every run.  A safe strategy may fail requests
# (deferred and nowait do, by design): failed requests commit nothing.  Each run cleans up after
# itself.  Runs on SQLite, and on PostgreSQL when make test started one.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my %ladder = (product => [qw(naive atomic locked deferred optimistic serializable)],
              coupon => [qw(naive atomic locked unique nowait)]);
my %fails_fast = (deferred => 1, nowait => 1);
my $RUNS = $ENV{RACELAB_RUNS} // 20;
# Floors that cannot flake on two cores: measured rates are far above them (the
# diag lines print them).
my %floor = (product => 0.5, coupon => 0.75);
my %args = (product => ['-s', 'all', '-t', 4, '-n', 300], coupon => ['-s', 'all', '-t', 4, '-n', 40]);

for my $b (backends()) {
    my ($backend, $where) = @$b;
    for my $scenario (qw(product coupon)) {
        my $tmp = private_tmp();
        my (%bad, %strategies);
        my ($naive_hits, $naive_lost, $runs_ok) = (0, 0, 0);
        for my $i (1 .. $RUNS) {
            my @cmd = ($scenario, '-b', $backend, @{ $args{$scenario} });
            push @cmd, '-d', $where if defined $where;
            my ($status, $r, $err) = racelab_json(\@cmd, TMPDIR => $tmp);
            if (!$r || $status != 0) {
                $bad{"run $i: exit $status, $err"}++;
                next;
            }
            $runs_ok++;
            $strategies{$_->{strategy}}++ for @{ $r->{strategies} };
            for my $s (@{ $r->{strategies} }) {
                # Only the strategies that fail fast by design may fail a request.
                $bad{"$s->{strategy}: $s->{failed} failed"}++
                    if $s->{failed} && !$fails_fast{$s->{strategy}};
                if ($s->{safe}) {
                    $bad{"$s->{strategy}: $s->{anomalies} anomalies"}++ if $s->{anomalies};
                    $bad{"$s->{strategy}: observed $s->{observed} != committed $s->{committed}"}++
                        if $s->{observed} != $s->{committed};
                    $bad{"$s->{strategy}: expected $s->{expected} != observed $s->{observed}"}++
                        if $s->{observed} != $s->{expected};
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
