#!/usr/bin/env perl
# latency.t: --latency on both backends: every statement pays its round trip (a
# lower bound on the run's time, never an upper one: no flaky timing), the safe
# strategies stay safe, naive loses more than without it; a sweep's table and
# JSON; bad values refused.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());

    # 20 operations of one UPDATE each, one thread: at least 20 round trips of 5 ms.
    my ($st, $rep, $err) = racelab_json([@db, 'product', '-s', 'atomic', '-t', '1', '-n', '20',
                                         '--latency', '5']);
    is($st, 0, "$backend --latency 5: exit 0") or diag($err);
    my $r = $rep->{strategies}[0];
    cmp_ok($r->{elapsed_s}, '>=', 0.1, "$backend --latency 5: 20 statements take at least 100 ms");
    is($r->{anomalies}, 0, "$backend --latency 5: atomic loses nothing");

    # naive over 5 runs at 2 ms: the window between read and write is wide open.
    my ($lost, $runs) = (0, 5);
    for (1 .. $runs) {
        ($st, $rep) = racelab_json([@db, 'product', '-s', 'naive,locked', '-n', '25',
                                    '--latency', '2']);
        my ($naive, $locked) = @{$rep->{strategies}};
        $lost++ if $naive->{anomalies} > 0;
        is($locked->{anomalies}, 0, "$backend --latency 2: locked loses nothing");
        is($locked->{observed}, $locked->{committed}, "$backend --latency 2: locked's count is exact");
    }
    is($lost, $runs, "$backend --latency 2: naive loses sales in every one of $runs runs");

    # A sweep: one point per latency, in order, each with every strategy.
    ($st, $rep, $err) = racelab_json([@db, 'coupon', '--latency', '0,1,3', '-n', '10']);
    is($st, 0, "$backend sweep: exit 0") or diag($err);
    is_deeply([map { $_->{latency_ms} } @{$rep->{sweep}}], [0, 1, 3],
              "$backend sweep: the three latencies, in order");
    ok(!grep({ $_->{safe} && $_->{anomalies} } map { @{$_->{strategies}} } @{$rep->{sweep}}),
       "$backend sweep: no safe strategy shows an anomaly at any latency");
    my ($out);
    ($st, $out) = racelab([@db, 'product', '--latency', '0,2', '-n', '10']);
    like($out, qr/^throughput \(ops\/s, log scale\)$/m, "$backend sweep: the chart of throughput");
    like($out, qr/^naive\s+0 ms \|#*\s+\d+\.\d%$/m, "$backend sweep: naive's loss per latency");
}

for my $bad (['--latency', '-1'], ['--latency', '1001'], ['--latency', 'x'],
             ['--latency', '1,2,3,4,5,6,7,8,9'], ['--latency', '0,5', '--schedule', 'random', '-s', 'naive']) {
    my ($st, $out, $err) = racelab($bad);
    ok($st == 64 && $err =~ /^racelab: .*(--latency|sweep)/, "@$bad: exit 64, naming --latency")
        or diag("exit $st: $err");
}
done_testing();
