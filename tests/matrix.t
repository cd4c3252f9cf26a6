#!/usr/bin/env perl
# matrix.t: racelab matrix, every cell on both backends against
# tests/expected/matrix.txt (backend|level|anomaly|how), every PostgreSQL cell
# agreeing with Hermitage's published table, the replay of one cell (--show),
# the Markdown table, refusals of bad --show/--level, and nothing left behind.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use JSON::PP;

my %golden;
open my $g, '<', "$FindBin::Bin/expected/matrix.txt" or die "golden: $!";
while (<$g>) {
    chomp;
    my ($backend, $level, $anomaly, $how) = split /\|/;
    $golden{"$backend|$level|$anomaly"} = $how;
}
close $g;

for my $b (backends()) {
    my ($name, $where) = @$b;
    my $tmp = private_tmp();
    my ($st, $out, $err) = racelab(['matrix', '--json', '-b', $name, ($where ? ('-d', $where) : ())],
                                   TMPDIR => $tmp);
    is($st, 0, "$name: racelab matrix exits 0") or diag($err);
    my $r = eval { decode_json($out) } or do { fail("$name: JSON report"); next };
    my @cells = @{ $r->{cells} };
    is(scalar @cells, 40, "$name: 40 cells (10 anomalies x 4 levels)");
    like($r->{versions}{$name}, $name eq 'sqlite' ? qr/^SQLite 3\./ : qr/^PostgreSQL \d+/,
         "$name: the version is reported");
    diag(sprintf "%s: the matrix ran in %.1f s", $name, $r->{elapsed_s});
    for my $c (@cells) {
        my $key = "$c->{backend}|$c->{level}|$c->{anomaly}";
        is($c->{how}, $golden{$key}, "$key: $golden{$key}");
        if ($name eq 'postgres') {
            ok($c->{agrees}, "$key agrees with Hermitage ($c->{hermitage})");
        }
    }
    opendir(my $d, $tmp) or die;
    my @left = grep { !/^\.\.?$/ } readdir $d;
    is(scalar @left, 0, "$name: no file left behind") or diag("@left");
}

my ($pg) = map { $_->[1] } grep { $_->[0] eq 'postgres' } backends();
SKIP: {
    skip 'no PostgreSQL', 4 unless $pg;
    my ($st, $out, $err) = racelab(['matrix', '--show', 'p4', '--level', 'Read Committed', '-d', $pg]);
    is($st, 0, '--show P4 --level "read committed": exit 0') or diag($err);
    like($out, qr/^step t2_w: UPDATE ledger SET amount = 11 WHERE id = 1; <waiting \.\.\.>$/m,
         '... the trace shows t2 waiting for t1\'s row lock');
    like($out, qr/^P4: happened \(Hermitage: happens, agrees\)$/m, '... and the verdict');
    open my $fh, '-|', 'psql', '-XAtq', $pg, '-c',
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab_matrix%'" or die;
    my $n = <$fh>;
    close $fh;
    chomp $n;
    is($n, '0', 'no matrix schema is left behind on PostgreSQL');
}
{
    my ($st, $out, $err) = racelab(['matrix', '--show', 'G2-item', '--level', 'deferred/rollback']);
    is($st, 0, '--show on SQLite: exit 0');
    like($out, qr/^step t2_w: .*\nERROR:  database is locked$/m,
         '... t2 cannot take the write lock t1 holds: database is locked');
    ($st, $out, $err) = racelab(['matrix', '--markdown', '-b', 'sqlite']);
    like($out, qr/^\| anomaly \| deferred\/WAL \| immediate\/WAL \|/m, '--markdown: a Markdown table');
    like($out, qr/^\| P4 lost update \| aborted SQLITE_BUSY \| blocked \|/m, '... with the cells');
}
for my $bad (['--show', 'G9'], ['--show', 'P4'], ['--show', 'P4', '--level', 'snapshot'],
             ['--level', 'serializable'], ['--markdown', '--json'],
             ['--show', 'P4', '--level', 'serializable', '-b', 'sqlite']) {
    my ($st, $out, $err) = racelab(['matrix', @$bad]);
    is($st, 64, "matrix @$bad: exit 64");
    my @lines = split /\n/, $err;
    is(scalar @lines, 1, "matrix @$bad: one line") or diag($err);
}
done_testing();
