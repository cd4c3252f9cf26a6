#!/usr/bin/env perl
# both.t: -b sqlite,postgres: one schedule on both backends, side by side: locked's
# second thread waits at begin on SQLite (BEGIN IMMEDIATE) and at lock on
# PostgreSQL (FOR UPDATE); naive loses a sale on both; free runs report both; the
# JSON holds both reports; an unreachable PostgreSQL is exit 69.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;

my @pg = grep { $_->[0] eq 'postgres' } backends();
plan skip_all => 'no PostgreSQL (make test starts one)' unless @pg;
my $where = $pg[0][1];

my ($st, $out, $err) = racelab(['product', '-b', 'sqlite,postgres', '-d', $where, '-s', 'locked',
    '--schedule', 't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit']);
is($st, 0, 'locked on both: exit 0') or diag($err);
like($out, qr/^== SQLite$/m, 'the SQLite run');
like($out, qr/^== PostgreSQL$/m, 'the PostgreSQL run');
like($out, qr/^== side by side: the same 8 steps$/m, 'side by side, eight steps');
like($out, qr/^t2\.begin\s+waits, then completes\s+done$/m, 't2.begin: waits on SQLite only');
like($out, qr/^t2\.lock\s+-> 1\s+waits, then completes -> 1$/m, 't2.lock: waits on PostgreSQL only');
like($out, qr/^SQLite: t2 waits at begin$/m, 'in words: SQLite waits at begin');
like($out, qr/^PostgreSQL: t2 waits at lock$/m, 'in words: PostgreSQL waits at lock');
is(() = $out =~ /^result: number_sold = 2, expected 2: no update lost$/mg, 2,
   'both keep both sales');

($st, $out) = racelab(['product', '-b', 'sqlite,postgres', '-d', $where, '-s', 'naive',
                       '--schedule', 't1.read t2.read t1.write t2.write']);
is(() = $out =~ /^result: number_sold = 1, expected 2: lost update/mg, 2,
   'naive loses a sale on both');

my $rep;
($st, $rep, $err) = racelab_json(['coupon', '-b', 'postgres,sqlite', '-d', $where, '-n', '20']);
is($st, 0, 'a free run on both: exit 0') or diag($err);
is_deeply([map { $_->{backend} } @{$rep->{backends} // []}], ['sqlite', 'postgres'],
          'the JSON: one report per backend');
ok(!grep({ $_->{safe} && $_->{anomalies} } map { @{$_->{strategies}} } @{$rep->{backends}}),
   'no safe strategy breaks on either');

($st, $out, $err) = racelab(['-b', 'sqlite,postgres', '-d', 'host=/nonexistent-racelab port=1',
                             '-n', '5']);
is($st, 69, 'an unreachable PostgreSQL: exit 69');
like($err, qr/^racelab: postgres: /, 'and the line names the backend');
($st, $out, $err) = racelab(['-b', 'sqlite,postgres', '--step']);
is($st, 64, '-b sqlite,postgres --step: exit 64');
done_testing();
