#!/usr/bin/env perl
# spec.t: racelab spec against PostgreSQL's own isolation tester.  Every spec file
# in specs/ (row locks, NOWAIT, SKIP LOCKED, a deadlock, write skew, an insert
# race, step markers and notices, all permutations) is run by racelab spec and by
# PostgreSQL's isolationtester on the same server, and the two outputs must be
# byte-identical.  Then SQLite: the specs whose SQL it accepts, against golden
# files; bad spec files: exit 64 and one line naming the problem; Ctrl-C and a
# lost server leave nothing behind.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use File::Temp qw(tempdir);

my $root = "$FindBin::Bin/..";
my @specs = sort glob("$root/specs/*.spec");
ok(@specs >= 8, 'specs/ holds our spec files') or diag(scalar @specs);

# The spec files PostgreSQL's tester and ours must agree on.
my @pg = grep { $_->[0] eq 'postgres' } backends();

sub slurp { my ($f) = @_; open my $fh, '<', $f or return ''; local $/; my $s = <$fh>; $s // '' }

sub psql { return pg_query($pg[0][1], $_[0]) }

# PostgreSQL's isolationtester, from the server's own major version if we can
# tell it, else the newest installed (postgresql-client-NN ships it).
sub find_tester {
    my $v = psql("SELECT current_setting('server_version_num')::int / 10000");
    my @t = ("/usr/lib/postgresql/$v/lib/pgxs/src/test/isolation/isolationtester",
             reverse sort glob('/usr/lib/postgresql/*/lib/pgxs/src/test/isolation/isolationtester'));
    return (grep { -x } @t)[0];
}

# Run a command with a spec on stdin; returns (status, stdout, stderr).
sub run_with_stdin {
    my ($cmd, $in, %env) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{$_} = $env{$_} for keys %env;
        open STDIN, '<', $in or exit 127;
        open STDOUT, '>', "$dir/out";
        open STDERR, '>', "$dir/err";
        exec @$cmd or exit 127;
    }
    my $st = wait_exit($pid, 120);
    return ($st // 'timeout', slurp("$dir/out"), slurp("$dir/err"));
}

my %datestyle = (PGDATESTYLE => 'Postgres, MDY', PGTZ => 'PST8PDT');

SKIP: {
    skip 'no PostgreSQL to test against (make test starts one)', 3 * @specs + 2 unless @pg;
    my $pg = $pg[0][1];
    my $tester = find_tester();
    ok($tester, "PostgreSQL's isolationtester is installed (postgresql-client)")
        or skip 'no isolationtester', 3 * @specs + 1;
    my $schemas = psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'");
    for my $spec (@specs) {
        (my $name = $spec) =~ s{.*/}{};
        # The tester works in a schema of its own, as racelab spec does, so
        # that neither can see the other's tables.
        my $schema = "spec_t_$$";
        psql("DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema");
        my ($tst, $theirs, $terr) = run_with_stdin([$tester, $pg], $spec, %datestyle,
                                                   PGOPTIONS => "-c search_path=$schema");
        psql("DROP SCHEMA IF EXISTS $schema CASCADE");
        my ($ost, $ours, $oerr) = racelab(['spec', $spec, '-b', 'postgres', '-d', $pg],
                                          %datestyle);
        is($ost, $tst, "$name: racelab spec exits as isolationtester does ($tst)")
            or diag("ours: $oerr\ntheirs: $terr");
        ok(length $theirs > 100, "$name: isolationtester ran it") or diag($terr);
        if ($ours eq $theirs) {
            pass("$name: output byte-identical to isolationtester's");
        } else {
            my $dir = tempdir(CLEANUP => 1);
            open my $a, '>', "$dir/ours"; print $a $ours; close $a;
            open my $b, '>', "$dir/theirs"; print $b $theirs; close $b;
            fail("$name: output byte-identical to isolationtester's");
            diag(`diff $dir/theirs $dir/ours | head -30`);
        }
    }
    is(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'"), $schemas,
       'racelab spec leaves no schema behind');
}

# SQLite: specs whose SQL it accepts, against golden files (its behaviour is
# SQLite's own: the write lock is the whole database's).
for my $name ('two-writers') {
    my ($st, $out, $err) = racelab(['spec', "$root/specs/$name.spec", '-b', 'sqlite']);
    is($st, 0, "$name on SQLite: exit 0") or diag($err);
    my $golden = slurp("$FindBin::Bin/expected/spec/$name.sqlite.out");
    is($out, $golden, "$name on SQLite: output as in tests/expected/spec/$name.sqlite.out");
}
{
    my $tmp = private_tmp();
    my ($st, $out, $err) = racelab(['spec', "$root/specs/two-writers.spec", '-b', 'sqlite'],
                                   TMPDIR => $tmp);
    opendir(my $d, $tmp) or die;
    my @left = grep { !/^\.\.?$/ } readdir $d;
    is(scalar @left, 0, 'racelab spec on SQLite leaves no file behind') or diag("@left");
}
{
    my ($st, $out, $err) = racelab(['spec', "$root/specs/deadlock.spec", '-b', 'sqlite']);
    is($st, 1, 'a spec whose session setup SQLite refuses: exit 1, as the tester exits');
    like($err, qr/^setup of session to_bob failed: ERROR:  /m,
         '... and the setup error is on stderr');
}

# Bad spec files: exit 64, one line naming the problem.
my $dir = tempdir(CLEANUP => 1);
my $good = slurp("$root/specs/nowait.spec");
my @bad = (
    ['truncated in an SQL block', substr($good, 0, index($good, 'INSERT')), qr/unterminated SQL block/],
    ['an unbalanced }', "session s step a { SELECT 1; } }\n", qr/line 1: unexpected character '\}'/],
    ['a step no session has', "session s step a { SELECT 1; }\npermutation a b\n",
     qr/line 2: undefined step "b"/],
    ['a marker naming an unknown step', "session s step a { SELECT 1; }\nsession t step b { SELECT 2; }\npermutation a(c) b\n",
     qr/undefined blocking step "c"/],
    ['a marker on its own session', "session s step a { SELECT 1; } step b { SELECT 2; }\npermutation a(b) b\n",
     qr/cannot wait for a step of its own session/],
    ['no session', "setup { SELECT 1; }\n", qr/expected 'session', found the end of the file/],
    ['a session without steps', "session s\nsession t step b { SELECT 1; }\n", qr/needs at least one step/],
    ['a duplicate step', "session s step a { SELECT 1; }\nsession t step a { SELECT 2; }\n", qr/duplicate step name "a"/],
    ['an unterminated quoted name', "session \"s step a { SELECT 1; }\n", qr/quoted name/],
    ['setup after teardown', "teardown { SELECT 1; }\nsetup { SELECT 2; }\nsession s step a { SELECT 1; }\n",
     qr/'setup' blocks must come before 'teardown'/],
    ['a NUL byte', "session s step a { SELECT \0 1; }\n", qr/NUL byte/],
    ['LISTEN/NOTIFY', "session s step a { LISTEN x; }\n", qr/LISTEN\/NOTIFY/],
    ['too many interleavings', join('', map { "session s$_ step a$_ { SELECT 1; } step b$_ { SELECT 2; } step c$_ { SELECT 3; }\n" } 1 .. 6),
     qr/more than 5000 ways/],
    ['a file over 1 MiB', "# " . ('x' x (1 << 20)) . "\nsession s step a { SELECT 1; }\n", qr/larger than 1048576 bytes/],
);
for my $case (@bad) {
    my ($what, $text, $re) = @$case;
    open my $fh, '>', "$dir/bad.spec" or die;
    print $fh $text;
    close $fh;
    my ($st, $out, $err) = racelab(['spec', "$dir/bad.spec"]);
    is($st, 64, "bad spec, $what: exit 64");
    my @lines = split /\n/, $err;
    ok(@lines == 1 && $err =~ $re, "bad spec, $what: one line naming it") or diag($err);
}
{
    my ($st, $out, $err) = racelab(['spec', "$dir/no-such.spec"]);
    is($st, 64, 'a missing spec file: exit 64');
    like($err, qr/^racelab: cannot read spec file .*no-such\.spec: No such file/, '... naming it');
    ($st, $out, $err) = racelab(['spec']);
    is($st, 64, "'racelab spec' without a file: exit 64");
    ($st, $out, $err) = racelab(['spec', "$root/specs/nowait.spec", '-b', 'sqlite,postgres']);
    is($st, 64, 'a spec on -b sqlite,postgres: exit 64 (the output is one server\'s)');
}

done_testing();
