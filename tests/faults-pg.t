#!/usr/bin/env perl
# faults-pg.t: PostgreSQL failing under a running racelab, on a throwaway server
# this test starts itself (scripts/pg-test-server.sh), so it can restart and stop
# it: the server restarted mid-run (pg_ctl restart -m fast), the server stopped for
# good, and a worker's backend terminated in the middle of its transaction.  Each
# run must end by itself with exit 69 and one clear line saying the database was
# lost and why, print the report of what ran, and count exactly: what the report
# says committed is what the database holds (after a restart racelab checks it
# again; after a stop for good the test starts the server again and looks).
# Nothing may be left behind: no schema, unless the server was gone for good, and
# then racelab names each schema it could not drop.
use strict;
use warnings;
use open qw(:std :encoding(UTF-8));
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my $ci = ($ENV{CI} // '') eq 'true';
my $PGSERVER = "$FindBin::Bin/../scripts/pg-test-server.sh";
my @bindirs = sort { ($b =~ /(\d+)/)[0] <=> ($a =~ /(\d+)/)[0] } glob '/usr/lib/postgresql/*/bin';
my $BIN = $ENV{PG_BINDIR} // $bindirs[0];
if (!$BIN || !-x "$BIN/pg_ctl") {
    plan skip_all => 'no PostgreSQL server binaries (scripts/install-deps.sh installs them)'
        unless $ci;
    BAIL_OUT('CI=true but no PostgreSQL server binaries to start a server with');
}

# A server of our own, in a directory short enough for a socket path.
my $DIR = `mktemp -d /tmp/racelab-faults.XXXXXX`;
chomp $DIR;
rmdir $DIR;
my $pg = `'$PGSERVER' start '$DIR'`;
chomp $pg;
BAIL_OUT("cannot start a PostgreSQL server: $pg") unless $pg =~ /^host=/;
END { system($PGSERVER, 'stop', $DIR) if $DIR && -d $DIR; }

# pg_ctl as the server's owner (root cannot run PostgreSQL).
sub pg_ctl {
    my @cmd = ("$BIN/pg_ctl", '-D', "$DIR/data", '-l', "$DIR/log", '-w', '-t', '60', '-s', @_);
    unshift @cmd, 'runuser', '-u', scalar getpwuid((stat "$DIR/data")[4]), '--' if $> == 0;
    return system(@cmd) == 0;
}

sub psql { return pg_query($pg, $_[0]) }

sub schemas { return grep { length } split /\n/, psql("SELECT nspname FROM pg_namespace"
                                                       . " WHERE nspname LIKE 'racelab%' ORDER BY 1") }

# No schema is left on the server; if one is, say so and drop it, so that the
# next case starts clean.
sub no_schema_left {
    my ($label) = @_;
    my @left = schemas();
    is_deeply(\@left, [], "$label: no schema is left on the server");
    psql("DROP SCHEMA $_ CASCADE") for @left;
}

# Start racelab in the background; returns (pid, tmp dir holding out and err).
sub start_run {
    my (@args) = @_;
    my $tmp = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        $ENV{TMPDIR} = $tmp;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$tmp/out";
        open STDERR, '>', "$tmp/err";
        exec $RACELAB, @args, '-b', 'postgres', '-d', $pg, '--json' or exit 127;
    }
    return ($pid, $tmp);
}

# Wait until every strategy's table shows committed work: the run is in full swing.
sub wait_busy {
    my ($table, $min) = @_;
    my $deadline = time + 90;   # a loaded machine sets up slowly
    while (time < $deadline) {
        my @s = schemas();
        if (@s == 3) {
            my $done = 0;
            for (@s) {
                my $n = psql($table eq 'products' ? "SELECT number_sold FROM $_.products"
                                                  : "SELECT count(*) FROM $_.$table");
                $done++ if $n =~ /^\d+$/ && $n >= $min;
            }
            return 1 if $done == 3;
        }
        sleep 0.05;
    }
    return 0;
}

sub finish {
    my ($pid, $tmp, $label, $seconds) = @_;
    my $t0 = time;
    my $status = wait_exit($pid, $seconds);
    my $took = time - $t0;
    my $err = RaceTest::slurp("$tmp/err");
    my $r = eval { decode_json(RaceTest::slurp("$tmp/out")) };
    is($status, 69, "$label: exit 69 (the database was lost)") or diag($err);
    like($err, qr/\Aracelab: the database was lost during the run: \S.*$/m,
         "$label: stderr says the database was lost, and why");
    ok($r && @{ $r->{strategies} } == 3, "$label: the report of what ran is printed");
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$|^out$|^err$/ } readdir $dh], [], "$label: nothing left in TMPDIR");
    return ($r, $err, $took);
}

# Long runs: a product run that outlasts the test; coupons few enough to be set up
# in a moment (a restart during setup is not what is tested), yet rounds of at
# least 2 ms each, so the run lasts 20 s or more.
my %n = (product => ['-n', 1000000], coupon => ['-n', 10000, '--think', 2]);

# --- restarted mid-run: racelab checks again once the server is back ------------
for my $scenario (qw(product coupon)) {
    my $table = $scenario eq 'product' ? 'products' : 'redemptions';
    my @n = @{ $n{$scenario} };
    my ($pid, $tmp) = start_run($scenario, '-t', 3, @n);
    ok(wait_busy($table, 20), "restart/$scenario: the run is under way");
    ok(pg_ctl('restart', '-m', 'fast'), "restart/$scenario: pg_ctl restart -m fast");
    my ($r, $err) = finish($pid, $tmp, "restart/$scenario", 60);
    for my $s (@{ $r ? $r->{strategies} : [] }) {
        my $what = "restart/$scenario/$s->{strategy}";
        unlike($s->{verdict}, qr/not checked/, "$what: checked after the restart: $s->{verdict}");
        if ($s->{safe}) {
            ok($s->{committed} > 0, "$what: requests committed before the restart");
            # Exactly: a statement outside a transaction block goes as a simple
            # Query, which commits before its CommandComplete (core/postgres.c,
            # send_statement), and a COMMIT commits before its CommandComplete.
            ok($s->{observed} == $s->{committed},
               "$what: the database holds exactly what was committed"
               . " ($s->{observed} of $s->{committed})");
        } else {
            ok($s->{verdict} !~ /not checked/ && $s->{observed} <= $s->{committed},
               "$what: checked too ($s->{observed} of $s->{committed})");
        }
        diag("$what: committed $s->{committed}, database $s->{observed}");
    }
    no_schema_left("restart/$scenario");
}

# --- a backend terminated in the middle of its transaction ----------------------
for my $scenario (qw(product coupon)) {
    my $table = $scenario eq 'product' ? 'products' : 'redemptions';
    my @n = @{ $n{$scenario} };
    my ($pid, $tmp) = start_run($scenario, '-t', 3, @n);
    ok(wait_busy($table, 20), "terminate/$scenario: the run is under way");
    # A locked worker between BEGIN and COMMIT: inside a transaction, not at COMMIT.
    my $killed = 0;
    my $deadline = time + 20;
    while (!$killed && time < $deadline) {
        $killed = psql("SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM"
                       . " pg_stat_activity WHERE application_name = 'racelab'"
                       . " AND pid <> pg_backend_pid() AND xact_start < query_start"
                       . " AND query !~* '^(COMMIT|BEGIN)'"
                       . " LIMIT 1) AS victim");
    }
    is($killed, 1, "terminate/$scenario: one worker terminated inside its transaction");
    my ($r) = finish($pid, $tmp, "terminate/$scenario", 60);
    for my $s (grep { $_->{safe} } @{ $r ? $r->{strategies} : [] }) {
        ok($s->{committed} > 0 && $s->{observed} == $s->{committed},
           "terminate/$scenario/$s->{strategy}: the database holds exactly what was committed"
           . " ($s->{observed} of $s->{committed}): the lost transaction counts nowhere");
    }
    no_schema_left("terminate/$scenario");
}

# --- stopped for good: the report counts what committed; the data says the same --
{
    my ($pid, $tmp) = start_run('product', '-t', 3, '-n', 1000000);
    ok(wait_busy('products', 20), 'stop: the run is under way');
    ok(pg_ctl('stop', '-m', 'fast'), 'stop: pg_ctl stop -m fast');
    my ($r, $err, $took) = finish($pid, $tmp, 'stop', 60);
    diag(sprintf 'stop: racelab gave up after %.1f s', $took);
    my @left = $err =~ /^racelab: schema (racelab_\w+) is left on the server \(.+\): DROP SCHEMA \S+ CASCADE removes it$/mg;
    is(scalar @left, 3, 'stop: racelab names each of the 3 schemas it could not drop');
    ok(pg_ctl('start'), 'stop: the test starts the server again to look at the data');
    is_deeply([sort @left], [schemas()], 'stop: the schemas named are the ones on the server');
    my %sold = map { /_(naive|atomic|locked)_/ ? ($1 => psql("SELECT number_sold FROM $_.products")) : () } @left;
    for my $s (@{ $r ? $r->{strategies} : [] }) {
        like($s->{verdict}, qr/^not checked/, "stop/$s->{strategy}: the report says it could not check");
        next unless $s->{safe};
        ok($s->{committed} > 0 && ($sold{ $s->{strategy} } // -1) == $s->{committed},
           "stop/$s->{strategy}: the data holds exactly what the report says committed"
           . " (" . ($sold{ $s->{strategy} } // '?') . " of $s->{committed})");
    }
    psql("DROP SCHEMA $_ CASCADE") for @left;
    is_deeply([schemas()], [], 'stop: after the DROP SCHEMA racelab printed, nothing is left');
}
done_testing();
