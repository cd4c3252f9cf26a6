#!/usr/bin/env perl
# lesson-traces.t: the PostgreSQL traces shipped with the lessons
# (lessons/traces/NN-*.txt) are what racelab prints today, and what the lessons
# print.  Each file's first line is the command ("# racelab ... -b postgres ...");
# the rest is its trace and result lines.  The test reruns the command on the
# throwaway PostgreSQL and compares line for line, so a change to the SQL, the
# trace format or PostgreSQL's locking cannot leave a stale trace in a lesson.
# To refresh them after an intended change: RACELAB_REGEN=1 make test.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Text::ParseWords qw(shellwords);

my $ROOT = "$FindBin::Bin/..";
my @files = sort glob("$ROOT/lessons/traces/*.txt");
my ($pg) = grep { $_->[0] eq 'postgres' } backends();   # CI=true: fails if none
ok(@files >= 3, 'lessons ship PostgreSQL traces (' . scalar(@files) . ')');

sub slurp { my ($f) = @_; open my $fh, '<:encoding(UTF-8)', $f or die "$f: $!"; local $/; <$fh> }

for my $file (@files) {
    (my $name = $file) =~ s{.*/}{};
    my ($num) = $name =~ /^0*(\d+)-/;
    my ($head, $body) = split /\n/, slurp($file), 2;
    my ($cmd) = $head =~ /^# racelab (.*)$/;
    ok(defined $cmd && $cmd =~ /-b postgres/, "$name: its first line is the PostgreSQL command")
        or next;
    my ($lesson) = glob("$ROOT/lessons/" . sprintf('%02d', $num) . '-*.md');
    ok($lesson && index(slurp($lesson), "```\n$body```\n") >= 0,
       "$name: lesson $num prints this trace, as a block of its own");

    SKIP: {
        skip('PostgreSQL: RACELAB_TEST_PG is unset', 2) unless $pg;
        my ($status, $out, $err) = racelab([shellwords($cmd), '-d', $pg->[1], '--no-ui']);
        my $now = join '', grep { /^(?:step |result: )/ } split /^/, $out;
        is($status, 0, "$name: the command exits 0") or diag($err);
        if ($ENV{RACELAB_REGEN} && $now ne $body) {
            open my $fh, '>:encoding(UTF-8)', $file or die "$file: $!";
            print $fh "$head\n$now";
            close $fh;
            diag("$name rewritten: copy it into lesson $num");
        }
        is($now, $body, "$name: racelab on PostgreSQL prints the shipped trace");
    }
}

done_testing();
