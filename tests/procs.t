#!/usr/bin/env perl
# procs.t: --procs, workers as processes (application servers), on both backends:
# the golden schedules give the very traces threads give; the safe strategies never
# break over 20 free runs and naive loses; the workers really are child processes,
# each with its own connection; Ctrl-C and a killed worker end the run cleanly,
# with nothing left behind.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $EXPECTED = "$FindBin::Bin/expected";
my @golden = (
    ['product-naive', 'product', 'naive', 't1.read t2.read t1.write t2.write'],
    ['product-locked', 'product', 'locked',
     't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit'],
    ['coupon-naive', 'coupon', 'naive', 't1.check t2.check t1.redeem t2.redeem t1.mark t2.mark'],
    ['coupon-locked', 'coupon', 'locked',
     't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit t2.redeem t2.mark t2.commit'],
);
sub trace_part { my ($out) = @_; return $out =~ /\A(.*?\n)\n/s ? $1 : $out }

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());

    for my $g (@golden) {
        my ($name, $scenario, $strategy, $schedule) = @$g;
        my ($st, $out, $err) = racelab([$scenario, '-s', $strategy, @db, '--procs',
                                        '--schedule', $schedule, '--no-ui']);
        is($st, 0, "$backend --procs $name: exit 0") or diag($err);
        is(trace_part($out), RaceTest::slurp("$EXPECTED/$name-$backend.out"),
           "$backend --procs $name: the golden trace, byte for byte");
    }

    for my $scenario (['product', '-n', '150'], ['coupon', '-n', '30']) {
        my ($unsafe_runs, $bad) = (0, 0);
        for my $run (1 .. 20) {
            my ($st, $rep, $err) = racelab_json([@$scenario, @db, '--procs']);
            if (!$rep) { diag("run $run: exit $st: $err"); $bad++; next }
            for my $s (@{$rep->{strategies}}) {
                if ($s->{safe}) {
                    $bad++ if $s->{anomalies} || $s->{observed} != $s->{expected};
                } elsif ($s->{anomalies} > 0) {
                    $unsafe_runs++;
                }
            }
        }
        is($bad, 0, "$backend --procs $scenario->[0]: no safe strategy breaks in 20 runs");
        cmp_ok($unsafe_runs, '>=', 18, "$backend --procs $scenario->[0]: naive shows its"
               . " anomaly in at least 18 of 20 runs ($unsafe_runs)");
    }
}

# Worker processes open their connections while the others already run, so
# SQLite can be busy for a moment at connect time (a wait with no step under
# way).  Four racelabs at once make such moments common: before core/run.c's
# on_wait learned this, about 1 run in 30 lost a worker to SIGSEGV here.
{
    my @kids;
    for my $k (1 .. 4) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $failed = 0;
            for (1 .. 10) {
                my ($st, $out, $err) = racelab(['coupon', '--procs', '-n', '50', '--no-ui']);
                if ($st != 0) { print STDERR "# exit $st: $err"; $failed++ }
            }
            exit($failed > 255 ? 255 : $failed);
        }
        push @kids, $pid;
    }
    my $failed = 0;
    for my $pid (@kids) { waitpid($pid, 0); $failed += $? >> 8 }
    is($failed, 0, 'sqlite --procs: 40 runs, 4 at a time: no worker process dies while'
       . ' connecting');
}

# The workers are processes: children of racelab, one per thread per strategy.
sub children { my ($pid) = @_; my @c = grep { /\d/ } split /\s+/, `ps -o pid= --ppid $pid`; @c }
{
    my $tmp = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$tmp/out"; open STDERR, '>', "$tmp/err";
        exec $RACELAB, qw(product --procs -t 3 -n 1000000 --think 2 --no-ui -d), "$tmp/db"
            or exit 127;
    }
    my $deadline = time + 20;
    my @kids;
    while (time < $deadline) { @kids = children($pid); last if @kids >= 9; sleep 0.05 }
    is(scalar @kids, 9, '--procs -t 3: nine worker processes, children of racelab');
    kill 'INT', $pid;
    is(wait_exit($pid, 20), 130, '--procs: Ctrl-C exits 130');
    ok(!grep({ kill 0, $_ } @kids), '--procs: no worker process outlives racelab');
    like(RaceTest::slurp("$tmp/out"), qr/interrupted: the counts below are for what ran/,
         '--procs: the report of what ran');
}

# A worker killed mid-run: the run ends, says which one, exits 70, leaves nothing.
{
    my $tmp = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        $ENV{TMPDIR} = $tmp;
        open STDOUT, '>', "$tmp.out"; open STDERR, '>', "$tmp.err";
        exec $RACELAB, qw(product --procs -t 2 -n 1000000 --think 2 --no-ui) or exit 127;
    }
    my $deadline = time + 20;
    my @kids;
    while (time < $deadline) { @kids = children($pid); last if @kids >= 6; sleep 0.05 }
    kill 'KILL', $kids[0] if @kids;
    is(wait_exit($pid, 20), 70, '--procs: a killed worker process ends the run with 70');
    like(RaceTest::slurp("$tmp.err"), qr/^racelab: worker process T\d of \w+ died \(signal 9\)$/m,
         '--procs: stderr names the worker that died');
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], '--procs: the temporary directory is removed');
    unlink "$tmp.out", "$tmp.err";
}
done_testing();
