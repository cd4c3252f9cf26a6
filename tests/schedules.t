#!/usr/bin/env perl
# schedules.t: deterministic interleavings (DESIGN.md, "Schedules") on real
# databases.  The canonical interleaving of each scenario x strategy gives exactly
# the trace in tests/expected/SCENARIO-STRATEGY-BACKEND.out, byte for byte (the
# trace and the result line: everything a --schedule run prints before its first
# blank line).  Seeded random runs repeat exactly; bad schedules are refused with
# 64, naming the token.  Runs on SQLite, and on PostgreSQL when make test started
# one.
#
# After changing the trace format on purpose: RACELAB_BLESS=1 make test rewrites
# the expected files; read the diff before committing it.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my $EXPECTED = "$FindBin::Bin/expected";

# name, scenario, strategy, schedule, and what the JSON report must say.
my @golden = (
    ['product-naive', 'product', 'naive', 't1.read t2.read t1.write t2.write',
     {observed => 1, anomalies => 1, lock_waits => 0}, 'loses exactly one of two sales'],
    ['product-atomic', 'product', 'atomic', 't1.update t2.update',
     {observed => 2, anomalies => 0, lock_waits => 0}, 'keeps both sales'],
    ['product-locked', 'product', 'locked',
     't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit',
     {observed => 2, anomalies => 0, lock_waits => 1}, 'makes t2 wait, and keeps both sales'],
    ['coupon-naive', 'coupon', 'naive', 't1.check t2.check t1.redeem t2.redeem t1.mark t2.mark',
     {observed => 2, anomalies => 1, lock_waits => 0}, 'redeems the coupon twice'],
    ['coupon-atomic', 'coupon', 'atomic', 't1.claim t2.claim t1.redeem t2.redeem',
     {observed => 1, anomalies => 0, lock_waits => 0}, 'lets exactly one claim win'],
    ['coupon-locked', 'coupon', 'locked',
     't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit t2.redeem t2.mark t2.commit',
     {observed => 1, anomalies => 0, lock_waits => 1}, 'makes t2 wait; it finds the coupon taken'],
    # The fix ladder.  Where the backends differ, the want is per backend.
    ['product-deferred', 'product', 'deferred',
     't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit',
     {sqlite => {observed => 1, anomalies => 0, failed => 1, retries => 0,
                 failures => {SQLITE_BUSY_SNAPSHOT => 1}},
      postgres => {observed => 2, anomalies => 0, failed => 0, lock_waits => 1}},
     'keeps every sale it commits (SQLite: t2 fails, stale snapshot; PostgreSQL: t2 waits)'],
    ['product-optimistic', 'product', 'optimistic', 't1.read t2.read t1.write t2.write',
     {observed => 2, anomalies => 0, retries => 1, failed => 0, lock_waits => 0},
     't2\'s stale version matches no row: it reads again and keeps both sales'],
    ['product-serializable', 'product', 'serializable',
     't1.begin t1.read t2.begin t2.read t1.write t2.write t1.commit t2.commit',
     {sqlite => {observed => 2, anomalies => 0, retries => 1, failed => 0, lock_waits => 0},
      postgres => {observed => 2, anomalies => 0, retries => 1, failed => 0, lock_waits => 1}},
     't2 is refused (SQLITE_BUSY / 40001), retries, and both sales are kept'],
    ['coupon-unique', 'coupon', 'unique', 't1.check t2.check t1.redeem t2.redeem t1.mark t2.mark',
     {observed => 1, anomalies => 0, refused => 1, failed => 0},
     'the UNIQUE index refuses t2\'s redemption: "already used", not a failure'],
    ['coupon-nowait', 'coupon', 'nowait',
     't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit t2.redeem t2.mark t2.commit',
     {sqlite => {observed => 1, anomalies => 0, failed => 1, lock_waits => 0,
                 failures => {SQLITE_BUSY => 1}},
      postgres => {observed => 1, anomalies => 0, failed => 1, lock_waits => 0,
                   failures => {'55P03' => 1}}},
     't2 fails at once instead of waiting, and the coupon is redeemed once'],
);

# Where a strategy's schedule fails or waits on one backend only.
my %fails_at = (
    'product-deferred' => {sqlite => qr/^step t2\.write: UPDATE .* ERROR: database is locked$/m},
    'product-serializable' => {
        sqlite => qr/^step t2\.write: UPDATE .* ERROR: database is locked\nstep t2\.rollback: ROLLBACK\nretry t2: /m,
        postgres => qr/^step t2\.write: <\.\.\. completed> ERROR: could not serialize access due to concurrent update$/m},
    'coupon-nowait' => {sqlite => qr/^step t2\.begin: BEGIN IMMEDIATE ERROR: database is locked$/m,
                        postgres => qr/^step t2\.lock: SELECT .* FOR UPDATE NOWAIT ERROR: could not obtain lock/m},
    'coupon-unique' => {sqlite => qr/^step t2\.redeem: INSERT .* ERROR: UNIQUE constraint failed/m,
                        postgres => qr/^step t2\.redeem: INSERT .* ERROR: duplicate key value violates unique constraint/m},
);

# Where t2 waits: SQLite's BEGIN IMMEDIATE takes the lock at begin; PostgreSQL's
# SELECT ... FOR UPDATE at lock.
my %waits_at = (sqlite => qr/^step t2\.begin: BEGIN IMMEDIATE <waiting \.\.\.>$/m,
                postgres => qr/^step t2\.lock: SELECT .* FOR UPDATE <waiting \.\.\.>$/m);

sub slurp { my ($f) = @_; open my $fh, '<', $f or return undef; local $/; return <$fh> }

# The deterministic part of a --schedule run's text output: up to the first blank line.
sub trace_part { my ($out) = @_; return $out =~ /\A(.*?\n)\n/s ? $1 : $out }

# Run racelab CMD --no-ui; with RACELAB_BLESS set, first write its trace to FILE
# (the golden).  Returns the status, stdout, stderr and the trace part.
sub run_golden {
    my ($file, @cmd) = @_;
    my ($status, $out, $err) = racelab([@cmd, '--no-ui']);
    my $trace = trace_part($out);
    if ($ENV{RACELAB_BLESS}) {
        open my $fh, '>', $file or die "$file: $!";
        print $fh $trace;
        close $fh;
    }
    return ($status, $out, $err, $trace);
}

my @backends = backends();
my %random;     # "scenario/strategy" => backend => trace
for my $b (@backends) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());

    for my $g (@golden) {
        my ($name, $scenario, $strategy, $schedule, $want, $what) = @$g;
        $want = $want->{$backend} if $want->{$backend};
        my $file = "$EXPECTED/$name-$backend.out";
        my @cmd = ($scenario, '-s', $strategy, @db, '--schedule', $schedule);
        my ($status, $out, $err, $trace) = run_golden($file, @cmd);
        is($status, 0, "$backend/$name: exit 0") or diag($err);
        my $expected = slurp($file);
        ok(defined $expected, "$backend/$name: $file exists");
        is($trace, $expected // '', "$backend/$name: the trace is exactly $name-$backend.out");
        like($trace, $waits_at{$backend}, "$backend/$name: t2 waits where $backend takes the lock")
            if $strategy eq 'locked';
        like($trace, $fails_at{$name}{$backend}, "$backend/$name: t2 is refused where $backend refuses it")
            if $fails_at{$name} && $fails_at{$name}{$backend};

        my ($js, $r) = racelab_json(\@cmd);
        my $s = $r && $r->{strategies}[0];
        is($js, 0, "$backend/$name --json: exit 0");
        is_deeply({map { $_ => $s && $s->{$_} } keys %$want}, $want, "$backend/$name $what");
        is($r && $r->{schedule}, $schedule, "$backend/$name --json: \"schedule\" as given");
        my @lines = split /\n/, $trace;
        my $result = pop @lines;
        is_deeply($r && $r->{trace}, \@lines, "$backend/$name --json: \"trace\" holds the same lines");
        is($r && 'result: ' . ($r->{result} // ''), $result, "$backend/$name --json: \"result\" is the result line");
    }

    # Seeded random runs: every thread, every operation, the same order each time.
    # Locked on PostgreSQL runs 2 threads: with two sessions queued on one row that
    # the holder updates, PostgreSQL itself races them for the new row version
    # (EvalPlanQual), so which waiter goes first is the server's choice (sched.h).
    for my $sc (['product', 'naive'], ['product', 'atomic'], ['product', 'locked'],
                ['coupon', 'naive'], ['coupon', 'atomic'], ['coupon', 'locked']) {
        my ($scenario, $strategy) = @$sc;
        my $t = $backend eq 'postgres' && $strategy eq 'locked' ? 2 : 3;
        my @cmd = ($scenario, '-s', $strategy, @db, '-t', $t, '-n', 4, '--schedule', 'random',
                   '--seed', 7, '--no-ui');
        my ($s1, $out1) = racelab(\@cmd);
        my ($s2, $out2) = racelab(\@cmd);
        my $t1 = trace_part($out1);
        is($s1 + $s2, 0, "$backend/$scenario/$strategy random seed 7: exit 0 twice");
        is(trace_part($out2), $t1, "$backend/$scenario/$strategy random seed 7: the same trace and"
            . " result twice");
        my @steps = $t1 =~ /^step t\d\.\w+: (?!<\.\.\. completed>)/mg;
        my $want = ($scenario eq 'product' ? {naive => 2, atomic => 1, locked => 4}
                                           : {naive => 3, atomic => 2, locked => 5})->{$strategy};
        is(scalar @steps, $t * 4 * $want, "$backend/$scenario/$strategy random: all $t threads x 4"
            . " operations x $want steps ran");
        $random{"$scenario/$strategy"}{$backend} = $t1;
    }
    # The fix ladder: retries and failures change the number of steps, so only
    # the repetition is asserted.  Two threads where PostgreSQL queues waiters.
    for my $sc (['product', 'deferred'], ['product', 'optimistic'], ['product', 'serializable'],
                ['coupon', 'unique'], ['coupon', 'nowait']) {
        my ($scenario, $strategy) = @$sc;
        my @cmd = ($scenario, '-s', $strategy, @db, '-t', $backend eq 'postgres' ? 2 : 3,
                   '-n', 4, '--schedule', 'random', '--seed', 7, '--no-ui');
        my ($s1, $out1) = racelab(\@cmd);
        my ($s2, $out2) = racelab(\@cmd);
        is($s1 + $s2, 0, "$backend/$scenario/$strategy random seed 7: exit 0 twice");
        is(trace_part($out2), trace_part($out1),
           "$backend/$scenario/$strategy random seed 7: the same trace and result twice");
    }
}

# The fix ladder's scenarios: each strategy's point in one schedule, on both
# backends.  Per backend: what the JSON must say, and a line the trace must hold
# (where it waits, who fails).  On PostgreSQL the deadlock is broken by the
# server after deadlock_timeout (1 s): the first to wait runs the check and is
# the victim, so the trace is the same every time.
my @ladder = (
    ['tickets-naive', 'tickets', 'naive', 't1.find t2.find t1.book t2.book',
     {observed => 1, anomalies => 1}, 'sells seat 1 twice', {}],
    ['tickets-atomic', 'tickets', 'atomic', 't1.begin t1.book t2.begin t2.book t1.commit t2.commit',
     {anomalies => 0}, 'never books a seat twice',
     {sqlite => [{observed => 2, failed => 0}, qr/^step t2\.book: .* RETURNING id -> 2$/m],
      postgres => [{observed => 1, failed => 1, failures => {'no seat' => 1}},
                   qr/^step t2\.book: <\.\.\. completed>$/m]}],
    ['tickets-locked', 'tickets', 'locked',
     't1.begin t1.find t2.begin t2.find t1.book t1.commit t2.book t2.commit',
     {observed => 2, anomalies => 0, lock_waits => 1}, 'makes t2 wait, then gives it seat 2',
     {sqlite => [{}, qr/^step t2\.begin: BEGIN IMMEDIATE <waiting \.\.\.>$/m],
      postgres => [{}, qr/^step t2\.find: <\.\.\. completed> -> 2$/m]}],
    ['tickets-skip_locked', 'tickets', 'skip_locked',
     't1.begin t1.find t2.begin t2.find t1.book t2.book t1.commit t2.commit',
     {observed => 2, anomalies => 0}, 'gives t2 seat 2',
     {sqlite => [{lock_waits => 1}, qr/^step t2\.begin: BEGIN IMMEDIATE <waiting \.\.\.>$/m],
      postgres => [{lock_waits => 0}, qr/^step t2\.find: .* SKIP LOCKED -> 2$/m]}],
    ['transfer-naive', 'transfer', 'naive',
     't1.read_from t1.read_to t2.read_from t2.read_to t1.debit t2.debit t1.credit t2.credit',
     {observed => 2020, anomalies => 2}, 'makes $20 from nothing', {}],
    ['transfer-locked', 'transfer', 'locked',
     't1.begin t1.lock_from t2.begin t2.lock_from t1.lock_to t2.lock_to',
     {observed => 2000, anomalies => 0}, 'keeps the total',
     {sqlite => [{failed => 0, committed => 2}, qr/^step t2\.begin: BEGIN IMMEDIATE <waiting \.\.\.>$/m],
      postgres => [{failed => 1, committed => 1, failures => {'40P01' => 1}},
                   qr/^deadlock: every remaining step waits: t1\.lock_to t2\.lock_to\nstep t1\.lock_to: <\.\.\. completed> ERROR: deadlock detected$/m]}],
    ['transfer-ordered', 'transfer', 'ordered',
     't1.begin t1.lock_low t2.begin t2.lock_low t1.lock_high t2.lock_high',
     {observed => 2000, anomalies => 0, failed => 0, committed => 2}, 'keeps the total, no deadlock',
     {sqlite => [{}, qr/^step t2\.begin: BEGIN IMMEDIATE <waiting \.\.\.>$/m],
      postgres => [{}, qr/^step t2\.lock_low: SELECT .* FOR UPDATE <waiting \.\.\.>$/m]}],
    ['transfer-serializable', 'transfer', 'serializable',
     't1.begin t1.read_from t1.read_to t2.begin t2.read_from t2.read_to t1.debit t1.credit t1.commit'
     . ' t2.debit t2.credit t2.commit',
     {observed => 2000, anomalies => 0, failed => 0, committed => 2, retries => 1},
     'refuses t2\'s stale write and retries it',
     {sqlite => [{}, qr/^step t2\.debit: .* ERROR: database is locked\nstep t2\.rollback: ROLLBACK\nretry t2:/m],
      postgres => [{}, qr/^step t2\.debit: .* ERROR: could not serialize access due to concurrent update\n/m]}],
);
for my $b (@backends) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());

    for my $g (@ladder) {
        my ($name, $scenario, $strategy, $schedule, $want, $what, $per) = @$g;
        my ($more, $line) = @{ $per->{$backend} // [{}, undef] };
        my $file = "$EXPECTED/$name-$backend.out";
        my @cmd = ($scenario, '-s', $strategy, @db, '--schedule', $schedule);
        my ($status, $out, $err, $trace) = run_golden($file, @cmd);
        is($status, 0, "$backend/$name: exit 0") or diag($err);
        is($trace, slurp($file) // '', "$backend/$name: the trace is exactly $name-$backend.out");
        like($trace, $line, "$backend/$name: the trace shows where it waits or fails") if $line;
        my ($js, $r) = racelab_json(\@cmd);
        my $s = $r && $r->{strategies}[0];
        my %all = (%$want, %$more);
        is($js, 0, "$backend/$name --json: exit 0");
        is_deeply({map { $_ => $s && $s->{$_} } keys %all}, \%all, "$backend/$name $what");
    }
}

# Where neither backend waits (naive, atomic), a seed means the same interleaving on
# both: the step order, and the whole trace.  (Locked waits at different steps on
# the two, so its order differs there, by design.)
SKIP: {
    skip 'needs PostgreSQL too', 4 unless @backends > 1;
    for my $k ('product/naive', 'product/atomic', 'coupon/naive', 'coupon/atomic') {
        is($random{$k}{postgres}, $random{$k}{sqlite},
            "$k random seed 7: the same trace on SQLite and PostgreSQL");
    }
}

# A listed schedule: one operation per thread whatever -n says; as many threads as
# its tokens name, unless -t adds more (they finish after the list, in order).
{
    my ($st, $r) = racelab_json(['product', '-s', 'naive', '-n', 50, '--schedule',
                                 't1.read t2.read t1.write t2.write']);
    is($st, 0, 'product naive schedule with -n 50: exit 0');
    is($r && "$r->{threads} threads x $r->{ops_per_thread}", '2 threads x 1',
       'a listed schedule runs one operation per thread, threads up to the highest tN');
    my ($st3, $out3) = racelab(['product', '-s', 'naive', '-t', 3, '--no-ui', '--schedule',
                                't1.read t2.read t1.write t2.write']);
    like(trace_part($out3), qr/^step t3\.read: .* -> 1\nstep t3\.write: .*\nresult: number_sold = 2, expected 3: /m,
       'with -t 3, thread 3 runs after the list: 2 of 3 sales counted');
    my ($s4, $out4) = racelab(['product', '-s', 'naive', '--no-ui', '--schedule', 't1.write t2.write']);
    like(trace_part($out4), qr/\Astep t1\.read: .*\nstep t1\.write: .*\nstep t2\.read: .*\nstep t2\.write: /,
       'a token for a later step takes the thread\'s earlier steps first');
    my ($s5, $r5, $e5) = racelab_json(['product', '-s', 'naive', '--trace', '--schedule',
                                       't1.read t2.read']);
    like($e5, qr/^step t1\.read: /m, 'with --json, --trace still prints the trace, on stderr');
}

# Bad schedules: 64, one line naming the token, nothing run.
for my $bad (
    [['-s', 'naive', '--schedule', 't1.read t3.write', '-t', 2], "'t3.write'", 'a thread -t does not run'],
    [['-s', 'naive', '--schedule', 't1.read t0.read'], "'t0.read'", 'thread 0'],
    [['-s', 'naive', '--schedule', 't1.read t2.lock'], "'t2.lock': naive has no step 'lock'", 'an unknown step'],
    [['-s', 'naive', '--schedule', 't1.write t1.read'], "'t1.read': t1 already took 'write'", 'steps out of order'],
    [['-s', 'naive', '--schedule', 't1.read thread2.read'], "'thread2.read'", 'a malformed token'],
    [['coupon', '-s', 'naive', '--schedule', 't1.read'], "'t1.read': naive has no step 'read'", 'a product step in coupon'],
    [['-s', 'naive', '--schedule', ''], 'empty --schedule', 'an empty schedule'],
    [['--schedule', 't1.read t2.read'], 'exactly one strategy', 'no strategy chosen'],
    [['-s', 'naive,atomic', '--schedule', 'random'], 'exactly one strategy', 'two strategies'],
    [['-s', 'naive', '--think', 5, '--schedule', 't1.read'], '--think 5', 'think time in a schedule'],
) {
    my ($args, $mention, $what) = @$bad;
    my $tmp = private_tmp();
    my ($status, $out, $err) = racelab([@$args, '--no-ui'], TMPDIR => $tmp);
    is($status, 64, "refused with 64: $what");
    like($err, qr/^racelab: [^\n]*\Q$mention\E[^\n]*\n\z/, "the one-line message names $mention");
    is($out, '', "nothing on stdout: $what");
}
done_testing();
