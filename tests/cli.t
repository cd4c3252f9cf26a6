#!/usr/bin/env perl
# cli.t: the real binary's face: help and version, one clear line and exit 64 for
# bad input, 69 for a database that cannot be opened, --db keeping its files, the
# default temporary directory removed at exit, and Ctrl-C stopping a run cleanly.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Time::HiRes qw(sleep time);

my ($st, $out, $err) = racelab(['--help']);
is($st, 0, '--help exits 0');
like($out, qr/--$_\b/, "--help lists --$_")
    for qw(backend db strategy threads ops think seed schedule step no-ui json trace help
           version);
($st, $out) = racelab(['--version']);
is($st, 0, '--version exits 0');
like($out, qr/^racelab \d+\.\d+\.\d+$/m, '--version prints the version');

my $tmp = private_tmp();
for my $bad (['-t', '0'], ['-t', '65'], ['-n', '-5'], ['--think', 'x'], ['-b', 'mysql'],
             ['-s', 'naive,bogus'], ['inventory'], ['--frobnicate'], ['-t']) {
    ($st, $out, $err) = racelab($bad, TMPDIR => $tmp);
    my @lines = split /\n/, $err;
    ok($st == 64 && @lines == 1 && $err =~ /^racelab: / && $out eq '',
       "racelab @$bad: exit 64, one line on stderr, nothing on stdout")
        or diag("exit $st, stderr: $err");
}
opendir my $dh, $tmp or die;
is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], 'bad input leaves nothing behind');

# Step mode runs on the dashboard: not on a pipe, not with --no-ui.
($st, $out, $err) = racelab(['--step'], TMPDIR => $tmp);
is($st, 64, '--step without a terminal: exit 64');
like($err, qr/^racelab: --step needs a terminal: it runs on the dashboard .*\n\z/,
     'and one line saying step mode needs a terminal');
($st, $out, $err) = racelab(['--step', '--no-ui'], TMPDIR => $tmp);
ok($st == 64 && $err =~ /^racelab: --step opens the dashboard, so it cannot go with --no-ui/,
   '--step --no-ui: exit 64, naming --no-ui') or diag("exit $st: $err");

($st, $out, $err) = racelab(['-d', '/proc/racelab-cannot-be-here', '-n', '5']);
is($st, 69, 'a --db directory that cannot be created: exit 69');
like($err, qr{^racelab: cannot create database directory /proc/racelab-cannot-be-here: .+\n\z},
     'and one line naming it');
my $file = "$tmp/plain-file";
open my $fh, '>', $file or die; close $fh;
($st, $out, $err) = racelab(['-d', $file, '-n', '5']);
is($st, 69, 'a --db that is a file: exit 69');

my $keep = "$tmp/kept";
($st, $out, $err) = racelab(['-d', $keep, '-n', '20', '--no-ui']);
is($st, 0, '--db DIR: the run succeeds');
ok(-f "$keep/product_$_.db", "--db DIR keeps product_$_.db") for qw(naive atomic locked);
like($out, qr/databases kept in \Q$keep\E/, 'the report says where the databases are');

# An option that needs a value refuses an option in its place, and creates nothing.
{
    my $cwd = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        chdir $cwd or exit 127;
        open STDOUT, '>', "$cwd.out"; open STDERR, '>', "$cwd.err";
        exec $RACELAB, qw(-d --no-ui -n 5) or exit 127;
    }
    is(wait_exit($pid, 20), 64, '-d --no-ui: exit 64');
    like(RaceTest::slurp("$cwd.err"),
         qr/^racelab: option '-d' needs a value, not '--no-ui', which looks like an option/,
         '-d --no-ui: one line naming the option and the value');
    opendir my $cd, $cwd or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $cd], [], '-d --no-ui: no directory is created');
    unlink "$cwd.out", "$cwd.err";
    for my $bad (['-s', '--json'], ['--schedule', '--no-ui'], ['-b', '-d']) {
        ($st, $out, $err) = racelab($bad);
        ok($st == 64 && $err =~ /needs a value, not '\Q$bad->[1]\E'/,
           "@$bad: exit 64, naming the option taken for a value") or diag("exit $st: $err");
    }
}

# One -d directory, two runs at once: the second is refused while the first runs.
{
    my $dir = private_tmp() . "/shared";
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', '/dev/null'; open STDERR, '>', '/dev/null';
        exec $RACELAB, '-d', $dir, qw(product -n 1000000 --think 2 --no-ui) or exit 127;
    }
    my $deadline = time + 20;
    sleep 0.02 until -f "$dir/product_locked.db" || time > $deadline;
    ($st, $out, $err) = racelab(['-d', $dir, '-n', '5', '--no-ui']);
    is($st, 69, 'a -d directory in use by another run: exit 69');
    like($err, qr/^racelab: database directory \Q$dir\E is in use by another racelab run/,
         'and one line saying so');
    kill 'INT', $pid;
    is(wait_exit($pid, 20), 130, 'the first run is interrupted');
    ok(-f "$dir/product_naive.db", "the first run's databases are still there");
    ($st) = racelab(['-d', $dir, '-n', '5', '--no-ui']);
    is($st, 0, 'once the first run is over, the directory can be used again');
}

my $tmp2 = private_tmp();
($st, $out) = racelab(['coupon', '-n', '5', '--no-ui'], TMPDIR => $tmp2);
is($st, 0, 'a default run exits 0');
opendir $dh, $tmp2 or die;
is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], 'the default temporary directory is removed');

# Ctrl-C: start a long run, wait until its databases exist, interrupt it.
my $tmp3 = private_tmp();
my $pid = fork // die;
if (!$pid) {
    $ENV{TMPDIR} = $tmp3;
    open STDOUT, '>', "$tmp3.out";
    open STDERR, '>', "$tmp3.err";
    exec $RACELAB, qw(product -n 1000000 --think 2 --no-ui) or exit 127;
}
my $deadline = time + 20;
my $started = 0;
while (time < $deadline) {
    my @dbs = glob("$tmp3/racelab-*/product_locked.db");
    if (@dbs) { $started = 1; last }
    sleep 0.02;
}
ok($started, 'the long run created its databases');
kill 'INT', $pid;
my $status = wait_exit($pid, 20);
ok(defined $status, 'Ctrl-C stops the run');
is($status, 130, 'Ctrl-C: exit 130');
opendir $dh, $tmp3 or die;
is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], 'Ctrl-C: the temporary directory is removed');
like(RaceTest::slurp("$tmp3.err"), qr/interrupted/, 'Ctrl-C: stderr says it was interrupted');
like(RaceTest::slurp("$tmp3.out"), qr/interrupted: the counts below are for what ran/,
     'Ctrl-C: the report of what ran is printed');
unlink "$tmp3.out", "$tmp3.err";
done_testing();
