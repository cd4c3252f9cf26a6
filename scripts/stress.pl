#!/usr/bin/env perl
# stress.pl: racelab's promise under load, measured (make stress).  For every backend
# (SQLite; PostgreSQL when RACELAB_TEST_PG names a server, as make stress arranges)
# and every scenario, RUNS free runs of every strategy at once, THREADS threads each,
# OPS operations per thread; then one line per strategy: runs, runs with an anomaly,
# anomalies, runs whose history (RACELAB_CHECK_HISTORY, core/history.h) was
# broken, failed requests, and the min / median / max throughput.
#
# Passes (exit 0) when every safe strategy showed 0 anomalies, a sound history, and
# the database held exactly what it committed in every run, every run exited 0 and left nothing in
# TMPDIR, and every unsafe strategy (naive) showed its anomaly in every run.
#
# Nothing is hard-coded about what racelab can run: the scenarios come from
# `racelab --help` (the lines under "Scenarios:"), the strategies from the JSON
# report of a run of each scenario, and what is safe from each entry's "safe" field
# (when a report has none: every strategy but naive).
#
# Environment: RACELAB (the binary), STRESS_RUNS (100), STRESS_THREADS (8),
# STRESS_OPS (500), RACELAB_TEST_PG (a libpq conninfo; with CI=true it must be set).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../tests";
use File::Temp qw(tempdir);
use JSON::PP;
use List::Util qw(min max sum);
use Time::HiRes qw(time);

my $RACELAB = $ENV{RACELAB} or die "stress.pl: RACELAB is not set: run make stress\n";
my $RUNS = $ENV{STRESS_RUNS} // 100;
my $THREADS = $ENV{STRESS_THREADS} // 8;
my $OPS = $ENV{STRESS_OPS} // 500;
# Time, not meaning: a strategy that deadlocks by design (transfer's locked) waits
# deadlock_timeout on PostgreSQL for each deadlock the server breaks, 1 s by default;
# 10 ms here (the test server's role may set it), and on PostgreSQL such a
# scenario's runs move fewer operations.
$ENV{PGOPTIONS} = '-c deadlock_timeout=10ms';
my %pg_ops = (transfer => 20);

my @backends = (['sqlite', undef]);
if ($ENV{RACELAB_TEST_PG}) {
    push @backends, ['postgres', $ENV{RACELAB_TEST_PG}];
} elsif (($ENV{CI} // '') eq 'true') {
    die "stress.pl: CI=true but no PostgreSQL to stress (RACELAB_TEST_PG is unset)\n";
} else {
    warn "stress.pl: PostgreSQL skipped: RACELAB_TEST_PG is unset (make stress sets it)\n";
}

# Run racelab ARGS with TMPDIR=TMP; returns (exit status, stdout, stderr).
sub run {
    my ($tmp, @args) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{TMPDIR} = $tmp;
        $ENV{RACELAB_CHECK_HISTORY} = 1;        # and every history (core/history.h)
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/out";
        open STDERR, '>', "$dir/err";
        exec $RACELAB, @args or exit 127;
    }
    waitpid $pid, 0;
    my $status = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    return ($status, slurp("$dir/out"), slurp("$dir/err"));
}

sub slurp {
    open my $fh, '<', $_[0] or return '';
    local $/;
    return scalar(<$fh>) // '';
}

# The scenarios racelab offers: the words that open the lines under "Scenarios:".
sub scenarios {
    my ($st, $out) = run(tempdir(CLEANUP => 1), '--help');
    die "stress.pl: racelab --help exited $st\n" if $st;
    my ($block) = $out =~ /^Scenarios:\n(.*?)(?:\n\n|\z)/ms
        or die "stress.pl: no Scenarios: section in racelab --help\n";
    my @s = $block =~ /^\s+([a-z][a-z0-9_-]*)\s/mg;
    die "stress.pl: no scenario found in racelab --help\n" unless @s;
    return @s;
}

sub median {
    my @v = sort { $a <=> $b } @_;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

my @problems;
my @rows;
my %conserved;                  # scenarios whose invariant is a conserved sum
my $t0 = time;
my @scenarios = scenarios();

for my $b (@backends) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());
    for my $scenario (@scenarios) {
        my $tmp = tempdir(CLEANUP => 1);
        # A moment's run names the strategies; the stress runs then ask for them all.
        my ($st, $out, $err) = run($tmp, $scenario, @db, '-t', 1, '-n', 1, '--json');
        my $probe = eval { decode_json($out) };
        if (!$probe) {
            push @problems, "$backend/$scenario: the probe run exited $st: $err";
            next;
        }
        my @names = map { $_->{strategy} } @{ $probe->{strategies} };
        my %safe = map { $_->{strategy} => exists $_->{safe} ? ($_->{safe} ? 1 : 0)
                                                              : ($_->{strategy} ne 'naive' ? 1 : 0) }
                   @{ $probe->{strategies} };
        my $t1 = time;
        my %acc = map { $_ => { runs => 0, hit => 0, anomalies => 0, failed => 0, broken => 0,
                                 rate => [] } }
                  @names;
        for my $i (1 .. $RUNS) {
            my $ops = $backend eq 'postgres' && $pg_ops{$scenario} ? $pg_ops{$scenario} : $OPS;
            ($st, $out, $err) = run($tmp, $scenario, @db, '-s', join(',', @names),
                                    '-t', $THREADS, '-n', $ops, '--json');
            my $r = eval { decode_json($out) };
            if ($st != 0 || !$r) {
                push @problems, "$backend/$scenario run $i: exit $st: $err";
                next;
            }
            my %broken = map { $_ => 1 } $err =~ /^racelab: history: (\S+): BROKEN/mg;
            for my $s (@{ $r->{strategies} }) {
                my $a = $acc{ $s->{strategy} } or next;
                $a->{broken}++ if $broken{ $s->{strategy} };
                my $name = "$backend/$scenario/$s->{strategy} run $i";
                $a->{runs}++;
                $a->{hit}++ if $s->{anomalies} > 0;
                $a->{anomalies} += $s->{anomalies};
                $a->{failed} += $s->{failed} // $s->{errors} // 0;
                push @{ $a->{rate} }, $s->{ops_per_s};
                next unless $safe{ $s->{strategy} };
                push @problems, "$name: $s->{anomalies} anomalies" if $s->{anomalies};
                # A counting invariant (expected = committed) must also hold what was
                # committed; a conserved sum (transfer's total) is checked by expected.
                push @problems, "$name: observed $s->{observed} != committed $s->{committed}"
                    if $s->{observed} != $s->{committed} && $s->{expected} == $s->{committed};
                $conserved{$scenario} = 1 if $s->{expected} != $s->{committed};
                push @problems, "$name: observed $s->{observed} != expected $s->{expected}"
                    if $s->{observed} != $s->{expected};
            }
            opendir my $dh, $tmp or die;
            my @left = grep { !/^\.\.?$/ } readdir $dh;
            push @problems, "$backend/$scenario run $i left @left in TMPDIR" if @left;
        }
        printf STDERR "stress: %s/%s: %d runs in %.0f s\n", $backend, $scenario, $RUNS,
            time - $t1;
        for my $n (@names) {
            my $a = $acc{$n};
            # A conserved sum can come out right by chance (money lost one way and
            # made the other): there, the anomaly must show in at least half the runs.
            my $need = $conserved{$scenario} ? $a->{runs} / 2 : $a->{runs};
            push @problems, "$backend/$scenario/$n: the anomaly showed in only $a->{hit}"
                . " of $a->{runs} runs" if !$safe{$n} && $a->{hit} < $need;
            push @rows, [$backend, $scenario, $n, $safe{$n} ? 'safe' : 'unsafe', $a->{runs},
                         $a->{hit}, $a->{anomalies}, $a->{broken}, $a->{failed},
                         @{ $a->{rate} } ? (min(@{ $a->{rate} }), median(@{ $a->{rate} }),
                                            max(@{ $a->{rate} })) : (0, 0, 0)];
        }
    }
}

printf "racelab stress: %d free runs x %d threads x %d ops per strategy, per backend (%.0f s)\n\n",
    $RUNS, $THREADS, $OPS, time - $t0;
printf "%-8s %-8s %-12s %-6s %5s %9s %9s %8s %8s %9s %9s %9s\n", 'backend', 'scenario',
    'strategy', 'kind', 'runs', 'anom.runs', 'anomalies', 'hist.bad', 'failures', 'min op/s',
    'med op/s', 'max op/s';
printf "%-8s %-8s %-12s %-6s %5d %9d %9d %8d %8d %9.0f %9.0f %9.0f\n", @$_ for @rows;
if (@problems) {
    print "\nFAILED:\n";
    print "  $_\n" for @problems;
    exit 1;
}
print "\nOK: every safe strategy kept its invariant in every run (observed = committed);"
    . " every unsafe one showed its anomaly in every run.\n";
exit 0;
