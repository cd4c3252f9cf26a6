#!/usr/bin/env perl
# faults-sqlite.t: SQLite failing under a running racelab.  The disk fills up (a
# 2 MB tmpfs when the test may mount one, as root; otherwise a file size limit,
# RLIMIT_FSIZE, which fails writes the same way, with EFBIG instead of ENOSPC),
# and the database directory is removed mid-run.  Each run must end by itself with
# exit 69 and one line saying the database was lost and why, print the report, and
# count exactly: the database holds what the report says committed (the sqlite3
# shell reads the files a -d run keeps), and nothing is left behind.
use strict;
use warnings;
use open qw(:std :encoding(UTF-8));
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use JSON::PP;
use File::Path qw(remove_tree);
use Time::HiRes qw(sleep time);

my $SQLITE3 = `sh -c "command -v sqlite3"`;
chomp $SQLITE3 if defined $SQLITE3;
BAIL_OUT('the sqlite3 shell is missing: scripts/install-deps.sh installs it') unless $SQLITE3;

# A small file system of our own, or a size limit.
my $FULL = private_tmp() . '/full';
mkdir $FULL or die;
my $how;
if ($> == 0 && !$ENV{RACELAB_TEST_NO_MOUNT} && system("mount -t tmpfs -o size=2m racelab-full '$FULL' 2>/dev/null") == 0) {
    $how = 'a 2 MB tmpfs';
} else {
    $how = 'RLIMIT_FSIZE of 2 MB';
}
END { system('umount', $FULL) if $how && $how =~ /tmpfs/; }
diag("disk full by $how");

# Run racelab ARGS with TMPDIR; the disk-full runs get the size limit if there is
# no tmpfs.  Returns (status, report, stderr).
sub run_full {
    my ($tmpdir, @args) = @_;
    my $out = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        $ENV{TMPDIR} = $tmpdir;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$out/out";
        open STDERR, '>', "$out/err";
        if ($how !~ /tmpfs/) {
            $SIG{XFSZ} = 'IGNORE';      # a write past the limit then fails with EFBIG
            exec 'sh', '-c', 'ulimit -f 2048 && exec "$@"', 'sh', $RACELAB, @args, '--json'
                or exit 127;
        }
        exec $RACELAB, @args, '--json' or exit 127;
    }
    my $status = wait_exit($pid, 120);
    my $r = eval { decode_json(RaceTest::slurp("$out/out")) };
    return ($status, $r, RaceTest::slurp("$out/err"));
}

sub entries {
    my ($dir) = @_;
    opendir my $dh, $dir or return ('(gone)');
    return sort grep { !/^\.\.?$/ } readdir $dh;
}

sub sqlite_value {
    my ($file, $sql) = @_;
    my $v = `'$SQLITE3' -batch -readonly '$file' '$sql' 2>&1`;
    chomp $v;
    return $v;
}

sub lost_ok {
    my ($label, $status, $r, $err, $why) = @_;
    is($status, 69, "$label: exit 69 (the database was lost)") or diag($err);
    like($err, qr/\Aracelab: the database was lost during the run: .*$why/m,
         "$label: stderr says the database was lost: $why");
    ok($r && @{ $r->{strategies} } == 3, "$label: the report of what ran is printed");
}

# --- the disk fills up --------------------------------------------------------
my $full_why = $how =~ /tmpfs/ ? qr/database or disk is full/ : qr/disk I\/O error|database or disk is full/;
# Coupons are issued before the run: few enough that they fit, so the disk fills
# mid-run (every commit grows the write-ahead log).
my %ops = (product => 1000000, coupon => 5000);
for my $scenario (qw(product coupon)) {
    # The private temporary directory racelab makes is on the full disk.
    my ($st, $r, $err) = run_full($FULL, $scenario, '-t', 3, '-n', $ops{$scenario});
    lost_ok("full/$scenario", $st, $r, $err, $full_why);
    for my $s (grep { $_->{safe} } @{ $r ? $r->{strategies} : [] }) {
        ok($s->{observed} == $s->{committed},
           "full/$scenario/$s->{strategy}: the database holds exactly what was committed"
           . " ($s->{observed} of $s->{committed})");
    }
    is_deeply([entries($FULL)], [], "full/$scenario: the full disk is left empty");

    # With -d the files stay: look at them with the sqlite3 shell.
    my $dir = "$FULL/kept";
    mkdir $dir or die;
    ($st, $r, $err) = run_full(private_tmp(), $scenario, '-t', 3, '-n', $ops{$scenario},
                               '-d', $dir);
    lost_ok("full -d/$scenario", $st, $r, $err, $full_why);
    my $sql = $scenario eq 'product' ? 'SELECT number_sold FROM products'
                                     : 'SELECT count(*) FROM redemptions';
    my $committed = 0;
    for my $s (@{ $r ? $r->{strategies} : [] }) {
        my $held = sqlite_value("$dir/${scenario}_$s->{strategy}.db", $sql);
        $committed += $s->{committed};
        if ($s->{safe}) {
            is($held, $s->{committed}, "full -d/$scenario/$s->{strategy}: the file holds"
               . " exactly what the report says committed ($s->{committed})");
        } else {
            is($held, $s->{observed}, "full -d/$scenario/$s->{strategy}: the file holds what"
               . " the report says it observed ($s->{observed})");
        }
    }
    ok($committed > 0, "full -d/$scenario: work was committed before the disk filled");
    remove_tree($dir);
}

# --- the database directory is removed mid-run --------------------------------
for my $with_d (0, 1) {
    my $tmp = private_tmp();
    my $dir = $with_d ? "$tmp/db" : undef;
    my $label = $with_d ? 'removed -d' : 'removed';
    mkdir $dir if $dir;
    my $out = private_tmp();
    my $pid = fork // die;
    if (!$pid) {
        $ENV{TMPDIR} = $tmp;
        open STDOUT, '>', "$out/out";
        open STDERR, '>', "$out/err";
        exec $RACELAB, 'product', '-t', 3, '-n', 1000000, '--json', $dir ? ('-d', $dir) : ()
            or exit 127;
    }
    # Wait for the database files, then for the run to get going, then remove them all.
    my $deadline = time + 20;
    my ($db) = ();
    while (time < $deadline) {
        ($db) = $dir ? ($dir) : map { "$tmp/$_" } grep { /^racelab-/ } entries($tmp);
        last if $db && 3 == grep { (-s "$db/product_$_.db-wal" // 0) > 16384 }
                               qw(naive atomic locked);
        sleep 0.02;
    }
    ok($db && -d $db, "$label: the run's database directory is there") or diag(entries($tmp));
    remove_tree($db) if $db;
    my $status = wait_exit($pid, 30);
    my $err = RaceTest::slurp("$out/err");
    my $r = eval { decode_json(RaceTest::slurp("$out/out")) };
    lost_ok($label, $status, $r, $err, qr/the database file \S+ was removed during the run/);
    for my $s (grep { $_->{safe} } @{ $r ? $r->{strategies} : [] }) {
        ok($s->{committed} > 0 && $s->{observed} == $s->{committed},
           "$label/$s->{strategy}: the files racelab still had open hold exactly what was"
           . " committed ($s->{observed} of $s->{committed})");
    }
    is_deeply([entries($tmp)], [], "$label: nothing is left in TMPDIR");
}
done_testing();
