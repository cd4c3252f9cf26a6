#!/usr/bin/env perl
# postgres.t: racelab on a real PostgreSQL server: clean refusals (exit 69, one
# line, never a password) for unreachable servers and missing databases; a run
# leaves no schema or table behind and never touches the user's tables; a worker
# connection killed mid-run with pg_terminate_backend stops the run cleanly with
# exact committed counts; too many threads for the server's limit says so.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Time::HiRes qw(sleep time);

my @pg = grep { $_->[0] eq 'postgres' } backends();
plan skip_all => 'no PostgreSQL to test against (make test starts one)' unless @pg;
my $pg = $pg[0][1];

sub psql { my ($sql, $conninfo) = @_; return pg_query($conninfo // $pg, $sql) }

# Unreachable servers and refused connections: 69, one line, no password.
for my $case (['host=/nonexistent-racelab-dir user=alice password=s3cretpw dbname=shop',
               'an unreachable socket directory'],
              ['postgresql://alice:s3cretpw@/shop?host=/nonexistent-racelab-dir',
               'a URI with a password'],
              ["$pg dbname=no_such_db_racelab password=s3cretpw", 'a missing database']) {
    my ($conninfo, $what) = @$case;
    my ($st, $out, $err) = racelab(['-b', 'postgres', '-d', $conninfo, '-n', '5', '--no-ui']);
    is($st, 69, "$what: exit 69");
    my @lines = split /\n/, $err;
    ok(@lines == 1 && $err =~ /^racelab: /, "$what: one line on stderr") or diag($err);
    unlike($err . $out, qr/s3cretpw/, "$what: the password is never printed");
}

# Nothing left behind, nothing of the user's touched.
psql('DROP TABLE IF EXISTS public.products; CREATE TABLE public.products (id int, note text);'
     . " INSERT INTO public.products VALUES (1, 'the user''s own row')");
my $schemas_before = psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'");
my $tables_before = psql('SELECT count(*) FROM pg_tables');
my ($st) = racelab(['product', '-b', 'postgres', '-d', $pg, '-t', '2', '-n', '20', '--no-ui']);
is($st, 0, 'a product run on PostgreSQL exits 0');
($st) = racelab(['coupon', '-b', 'postgres', '-d', $pg, '-t', '2', '-n', '5', '--no-ui']);
is($st, 0, 'a coupon run on PostgreSQL exits 0');
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'"), $schemas_before,
   'no racelab schema is left behind');
is(psql('SELECT count(*) FROM pg_tables'), $tables_before, 'no table is left behind');
is(psql('SELECT note FROM public.products WHERE id = 1'), "the user's own row",
   "a table of the user's called products is untouched");
psql('DROP TABLE public.products');

# Without -d: libpq's defaults and the PG* variables, as psql.
my %env = map { /^(\w+)=(.*)$/ ? (uc("PG$1") => $2) : () } split ' ', $pg;
$env{PGHOST} //= ''; $env{PGDATABASE} = delete $env{PGDBNAME} if exists $env{PGDBNAME};
($st) = racelab(['-b', 'postgres', '-n', '5', '--no-ui'], %env);
is($st, 0, 'without -d, the PG* environment variables are used');

# Too many threads for a role's connection limit.
# (Superusers ignore connection limits: this role is an ordinary one.)
psql('DROP ROLE IF EXISTS racelab_limited; CREATE ROLE racelab_limited LOGIN CONNECTION LIMIT 5;'
     . ' GRANT CREATE ON DATABASE ' . psql('SELECT current_database()') . ' TO racelab_limited');
my ($st2, $out2, $err2) = racelab(['-b', 'postgres', '-d', "$pg user=racelab_limited",
                                   '-t', '4', '-n', '5', '--no-ui']);
is($st2, 69, 'more connections than allowed: exit 69');
like($err2, qr/too many connections.*fewer threads.*this run opens 16 connections/,
     'the message says what the limit is and what the run needs') or diag($err2);
psql('REVOKE CREATE ON DATABASE ' . psql('SELECT current_database()')
     . ' FROM racelab_limited; DROP ROLE racelab_limited');

# A worker's connection terminated mid-run.
for my $round (1 .. 3) {
    my $tmp = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$tmp/out";
        open STDERR, '>', "$tmp/err";
        exec $RACELAB, 'product', '-b', 'postgres', '-d', $pg, '-s', 'atomic,locked', '-t', '3',
            '-n', '1000000', '--json' or exit 127;
    }
    # Wait until workers are busy, then kill the backends running the demo's statements.
    my $killed = 0;
    my $deadline = time + 20;
    while (time < $deadline && !$killed) {
        $killed = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                       . " WHERE application_name = 'racelab' AND pid <> pg_backend_pid()"
                       . " AND query ~ '^(UPDATE products|SELECT number_sold|COMMIT|BEGIN)'"
                       . " AND backend_start < now() - interval '200 milliseconds'");
        sleep 0.05 unless $killed;
    }
    ok($killed, "round $round: terminated $killed worker connection(s) mid-run");
    my $status = wait_exit($pid, 30);
    ok(defined $status, "round $round: the run stops by itself");
    is($status, 69, "round $round: exit 69");
    like(RaceTest::slurp("$tmp/err"), qr/^racelab: the database was lost during the run: .+$/m,
         "round $round: stderr says the database was lost, and why");
    my $r = eval { JSON::PP::decode_json(RaceTest::slurp("$tmp/out")) };
    ok($r, "round $round: the report of what ran is printed");
    for my $s (@{ $r ? $r->{strategies} : [] }) {
        ok($s->{committed} > 0 && $s->{observed} == $s->{committed},
           "round $round: $s->{strategy}: the database holds exactly what was committed"
           . " ($s->{observed} of $s->{committed})");
    }
}
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'"), $schemas_before,
   'no racelab schema is left behind after the terminated runs');
done_testing();
