#!/usr/bin/env perl
# exportspec.t: --export-spec FILE writes a scheduled run as a spec file, and the
# spec replays the run.  For every scenario and strategy, on each backend, a
# schedule (naive's shows its anomaly; a safe one's makes a thread wait where the
# strategy can wait at all, else shows its own defence: a retry, a refusal) is
# exported; then
#  - racelab spec runs the file on the same backend, and its steps, waits,
#    values and errors, in order, are the --schedule trace's (normalized: tN.X
#    is step sN_X, the K-th time sN_X_K; skipped steps sent nothing), and its
#    last step shows the rows the trace's result line speaks of;
#  - on PostgreSQL, PostgreSQL's own isolationtester accepts the file and prints
#    exactly what racelab spec prints, byte for byte;
#  - a SQLite export whose SQL PostgreSQL accepts runs on both the same way too,
#    and one that holds BEGIN IMMEDIATE says so, in the file and on stderr.
# Bad uses are refused with 64 and one line; nothing is left behind.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);
my @pg = grep { $_->[0] eq 'postgres' } backends();
my $PG = @pg ? $pg[0][1] : undef;

# racelab with ARGS, given at most two minutes: (status, stdout, stderr).
my $runs = 0;
sub rl {
    my ($args) = @_;
    my $base = "$dir/run" . $runs++;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$base.out";
        open STDERR, '>', "$base.err";
        exec $RACELAB, @$args or exit 127;
    }
    my $st = wait_exit($pid, 120);
    return ($st // 'timeout', slurp("$base.out"), slurp("$base.err"));
}

sub slurp { my ($f) = @_; open my $fh, '<', $f or return ''; local $/; my $s = <$fh>; $s // '' }

# name, scenario, strategy, schedule.
my @cases = (
    ['product', 'naive', 't1.read t2.read t1.write t2.write'],
    ['product', 'atomic', 't1.update t2.update'],
    ['product', 'locked', 't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit'],
    ['product', 'deferred', 't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit'],
    ['product', 'optimistic', 't1.read t2.read t1.write t2.write'],
    ['product', 'serializable', 't1.begin t1.read t2.begin t2.read t1.write t2.write t1.commit t2.commit'],
    ['coupon', 'naive', 't1.check t2.check t1.redeem t2.redeem t1.mark t2.mark'],
    ['coupon', 'atomic', 't1.claim t2.claim t1.redeem t2.redeem'],
    ['coupon', 'locked', 't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit t2.redeem t2.mark t2.commit'],
    ['coupon', 'unique', 't1.check t2.check t1.redeem t2.redeem t1.mark t2.mark'],
    ['coupon', 'nowait', 't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit t2.redeem t2.mark t2.commit'],
    ['tickets', 'naive', 't1.find t2.find t1.book t2.book'],
    ['tickets', 'atomic', 't1.begin t1.book t2.begin t2.book t1.commit t2.commit'],
    ['tickets', 'locked', 't1.begin t1.find t2.begin t2.find t1.book t1.commit t2.book t2.commit'],
    ['tickets', 'skip_locked', 't1.begin t1.find t2.begin t2.find t1.book t2.book t1.commit t2.commit'],
    ['transfer', 'naive', 't1.read_from t1.read_to t2.read_from t2.read_to t1.debit t2.debit t1.credit t2.credit'],
    ['transfer', 'locked', 't1.begin t1.lock_from t2.begin t2.lock_from t1.lock_to t2.lock_to'],
    ['transfer', 'ordered', 't1.begin t1.lock_low t2.begin t2.lock_low t1.lock_high t2.lock_high'],
    ['transfer', 'serializable', 't1.begin t1.read_from t1.read_to t2.begin t2.read_from t2.read_to'
     . ' t1.debit t1.credit t1.commit t2.debit t2.credit t2.commit'],
    # Seeded random schedules: several operations, so steps sent again (sN_X_2).
    # Two threads: with more, several would wait for one lock at once, and which
    # goes first is the database's choice, not the file's (it says so; below).
    ['coupon', 'locked', 'random', '--seed', 3, '-t', 2],
    ['product', 'naive', 'random', '--seed', 7, '-t', 3, '-n', 2],
);

# Every strategy of every scenario has a case (racelab --help lists them).
my ($hst, $help) = racelab(['--help']);
for my $scn (qw(product coupon tickets transfer)) {
    like($help, qr/^  \Q$scn\E\s/m, "racelab --help lists $scn");
}
my %have = map { ("$_->[0]/$_->[1]" => 1) } @cases;
my @missing;
for my $scn (qw(product coupon tickets transfer)) {
    my (undef, undef, $e) = racelab([$scn, '-s', 'nosuch']);
    my ($list) = $e =~ /choose from (.*)$/m;
    for my $st (split /[,\s]+/, $list // '') {
        $st =~ s/[^a-z_]//g;
        next if !$st || $st eq 'or' || $st eq 'all';
        push @missing, "$scn/$st" unless $have{"$scn/$st"};
    }
}
is_deeply(\@missing, [], 'every scenario x strategy has an export case');

# The --schedule trace as [kind, thread, step#k, detail], and its result line.
sub trace_events {
    my ($text) = @_;
    my (@ev, %k, $result, $deadlock);
    for my $line (split /\n/, $text) {
        last if $line eq '';
        if ($line =~ /^result: (.*)$/) { $result = $1; next }
        $deadlock = 1 if $line =~ /^deadlock: /;
        next if $line =~ /^(?:retry t\d+:|deadlock: )/ || $line =~ /^step t\d+\.\w+: skipped$/;
        my ($t, $s, $rest) = $line =~ /^step t(\d+)\.(\w+): (.*)$/ or do { push @ev, ['?', $line]; next };
        if ($rest =~ /^<\.\.\. completed>(?: -> (-?\d+))?(?: ERROR: (.*))?$/) {
            push @ev, ['done', $t, "$s#" . $k{"$t.$s"}, $1 // '', $2 // ''];
            next;
        }
        my $n = ++$k{"$t.$s"};
        my ($sql, $wait, $v, $e) = $rest =~ /^(.*?)( <waiting \.\.\.>)?(?: -> (-?\d+))?(?: ERROR: (.*))?$/;
        push @ev, ['step', $t, "$s#$n", $sql];
        push @ev, $wait ? ['wait', $t, "$s#$n"] : ['done', $t, "$s#$n", $v // '', $e // ''];
    }
    # A deadlock: racelab holds the survivor's completion until the victim has
    # rolled back; the tester prints it while it waits for the victim's failing
    # step, so before the ROLLBACK (the file's comments say so).  The same
    # steps, results and errors: put the two lines in the tester's order.
    if ($deadlock) {
        for my $i (1 .. $#ev - 2) {
            my ($fail, $rb, $rbdone, $other) = @ev[$i - 1 .. $i + 2];
            next unless $fail->[0] eq 'done' && $fail->[4] eq 'deadlock detected'
                && $rb->[0] eq 'step' && $rb->[2] =~ /^rollback#/ && $rb->[1] eq $fail->[1]
                && $rbdone->[0] eq 'done' && $rbdone->[2] eq $rb->[2]
                && $other->[0] eq 'done' && $other->[1] ne $fail->[1];
            @ev[$i .. $i + 2] = ($other, $rb, $rbdone);
            last;
        }
    }
    return (\@ev, $result);
}

# The tester's output as the same events, and the final_state step's rows.
sub spec_events {
    my ($text) = @_;
    my (@ev, @final, $cur, $in_final);
    my @lines = split /\n/, $text;
    for (my $i = 0; $i < @lines; $i++) {
        my $line = $lines[$i];
        if ($line =~ /^step (\w+): (.*)$/) {
            my ($name, $rest) = ($1, $2);
            $in_final = $name eq 'final_state';
            next if $in_final;
            my ($t, $s, $n) = $name =~ /^s(\d+)_(\w+?)(?:_(\d+))?$/ or do { push @ev, ['?', $line]; next };
            my $id = "$s#" . ($n // 1);
            if ($rest eq '<... completed>') {
                $cur = ['done', $t, $id, '', ''];
                push @ev, $cur;
            } elsif ($rest =~ /^(.*) <waiting \.\.\.>$/) {
                push @ev, ['step', $t, $id, $1], ['wait', $t, $id];
                $cur = undef;
            } else {
                push @ev, ['step', $t, $id, $rest];
                $cur = ['done', $t, $id, '', ''];
                push @ev, $cur;
            }
        } elsif ($line =~ /^ERROR:  (.*)$/) {
            $cur->[4] = $1 if $cur;
        } elsif (($lines[$i + 1] // '') =~ /^-+(?:\+-+)*$/) {
            # a table: header, dashes, rows, (N rows)
            $i += 2;
            my @rows;
            while ($i < @lines && $lines[$i] !~ /^\(\d+ rows?\)$/) {
                push @rows, [map { s/^\s+|\s+$//gr } split /\|/, $lines[$i], -1];
                $i++;
            }
            if ($in_final) { @final = @rows }
            elsif ($cur && @rows) { $cur->[3] = $rows[0][0] }
        }
    }
    return (\@ev, \@final);
}

# What the result line says, against what the final rows show.
my %final = (
    product => sub { my ($r, $rows) = @_; my ($n) = $r =~ /number_sold = (\d+)/; ($n, $rows->[0][0]) },
    coupon => sub { my ($r, $rows) = @_; my ($n) = $r =~ /redeemed (\d+) times?/; ($n, scalar @$rows) },
    tickets => sub { my ($r, $rows) = @_; my ($n) = $r =~ /(\d+) seats? booked/; ($n, scalar @$rows) },
    transfer => sub { my ($r, $rows) = @_; my ($n) = $r =~ /total = (\d+)/; my $s = 0; $s += $_->[2] for @$rows; ($n, $s) },
);

sub psql {
    my ($sql) = @_;
    system('psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', $PG, '-c',
           "SET client_min_messages TO warning; $sql") == 0 or die "psql failed: $sql";
}

sub find_tester {
    my ($v) = `psql -XAtq '$PG' -c "SELECT current_setting('server_version_num')::int / 10000"` =~ /(\d+)/;
    my @t = ("/usr/lib/postgresql/" . ($v // 0) . "/lib/pgxs/src/test/isolation/isolationtester",
             reverse sort glob('/usr/lib/postgresql/*/lib/pgxs/src/test/isolation/isolationtester'));
    return (grep { -x } @t)[0];
}
my $tester = $PG ? find_tester() : undef;
ok($tester, "PostgreSQL's isolationtester is installed (postgresql-client)") if $PG;

# PostgreSQL's isolationtester on SPEC, in a schema of its own: (status, stdout, stderr).
my $schema_n = 0;
sub tester {
    my ($spec) = @_;
    my $schema = "export_t_$$" . '_' . $schema_n++;
    psql("DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema");
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{PGOPTIONS} = "-c search_path=$schema";
        open STDIN, '<', $spec or exit 127;
        open STDOUT, '>', "$dir/t.out";
        open STDERR, '>', "$dir/t.err";
        exec $tester, $PG or exit 127;
    }
    my $st = wait_exit($pid, 120);
    psql("DROP SCHEMA IF EXISTS $schema CASCADE");
    return ($st // 'timeout', slurp("$dir/t.out"), slurp("$dir/t.err"));
}

sub same_text {
    my ($ours, $theirs, $name) = @_;
    return pass($name) if $ours eq $theirs;
    open my $a, '>', "$dir/ours"; print $a $ours; close $a;
    open my $b, '>', "$dir/theirs"; print $b $theirs; close $b;
    fail($name);
    diag(`diff $dir/theirs $dir/ours | head -30`);
}

my $n = 0;
for my $backend (backends()) {
    my ($b, $where) = @$backend;
    my @d = $where ? ('-d', $where) : ();
    for my $case (@cases) {
        my ($scn, $st, $sched, @more) = @$case;
        my $opt = ref $more[-1] ? pop @more : {};
        next if $opt->{only} && $opt->{only} ne $b;
        my $name = "$scn/$st on $b ($sched" . (@more ? " @more" : '') . ')';
        my $spec = "$dir/export" . $n++ . '.spec';
        my ($rst, $out, $err) = rl([$scn, '-s', $st, '-b', $b, @d, '--schedule', $sched, @more,
                                         '--export-spec', $spec, '--no-ui']);
        ok($rst == 0 && -s $spec, "$name: exported (exit $rst)") or do { diag($err); next };
        my ($want, $result) = trace_events($out);
        ok(defined $result, "$name: the run has a result line");

        my ($ost, $ours, $oerr) = rl(['spec', $spec, '-b', $b, @d]);
        is($ost, 0, "$name: racelab spec -b $b runs it") or diag($oerr);
        my ($got, $rows) = spec_events($ours);
        is_deeply($got, $want, "$name: racelab spec gives the schedule's steps, waits, values and errors")
            or diag("trace:\n$out\nspec:\n$ours");
        my ($said, $shown) = $final{$scn}->($result // '', $rows);
        ok(defined $said && defined $shown && $said == $shown,
           "$name: final_state shows what the result line says (" . ($said // '?') . ')')
            or diag("result: " . ($result // '') . "\n$ours");

        my $text = slurp($spec);
        my $sqlite_only = $text =~ /\{ BEGIN IMMEDIATE \}/;
        if ($b eq 'sqlite') {
            is(!!($err =~ /note: the spec holds SQLite's BEGIN IMMEDIATE/), !!$sqlite_only,
               "$name: says on stderr whether the file holds SQLite-only SQL");
            is(!!($text =~ /PostgreSQL has no BEGIN IMMEDIATE/), !!$sqlite_only,
               "$name: ... and in the file");
        }
        next unless $PG;
        if ($sqlite_only) {
            my ($tst, $theirs, $terr) = tester($spec);
            like("$theirs$terr", qr/ERROR:  syntax error at or near "(?:IMMEDIATE|PRAGMA)"$/m,
                 "$name: PostgreSQL refuses SQLite's BEGIN IMMEDIATE (or PRAGMA), as the file says");
            next;
        }
        # A SQLite export with transactions may wait on PostgreSQL where SQLite
        # failed, for a step sent later (the file says so): only the
        # autocommit ones run there as a matter of course.
        next if $b eq 'sqlite' && $text =~ /^step \w+ \{ BEGIN/m;
        my ($tst, $theirs, $terr) = tester($spec);
        is($tst, 0, "$name: PostgreSQL's isolationtester accepts it") or diag($terr);
        my ($pst, $pours, $perr) = $b eq 'postgres' ? ($ost, $ours, $oerr)
                                                    : rl(['spec', $spec, '-b', 'postgres', '-d', $PG]);
        is($pst, 0, "$name: racelab spec -b postgres runs it") or diag($perr);
        same_text($pours, $theirs, "$name: racelab spec prints what isolationtester prints, byte for byte");
    }
}

# Refusals: exit 64, one line naming the need; no file left behind.
my $nofile = "$dir/never.spec";
for my $bad (
    [[qw(product -s naive --export-spec), $nofile], qr/give --schedule/, 'without --schedule'],
    [[qw(product -s naive --schedule all --export-spec), $nofile], qr/not 'all'/, 'with --schedule all'],
    [['product', '--schedule', 't1.read t2.read', '--export-spec', $nofile], qr/one strategy at a time: name one with -s/, 'without -s'],
    [['product', '-s', 'naive,atomic', '--schedule', 't1.read', '--export-spec', $nofile], qr/one strategy at a time/, 'with two strategies'],
    [['product', '-s', 'naive', '--schedule', 't1.read t2.read', '--json', '--export-spec', '-'], qr/--json/, 'with --json on stdout'],
    [['product', '-s', 'naive', '--schedule', 'random', '-t', 16, '--export-spec', $nofile], qr/at most 16 sessions/, 'with 16 threads'],
    [['product', '-s', 'naive', '--schedule', 't1.read', '--export-spec', "$dir/no/such/dir/x.spec"], qr/cannot write the spec file/, 'to a directory that does not exist'],
    [['spec', 'x.spec', '--export-spec', $nofile], qr/no place in 'spec'/, "in racelab spec"],
) {
    my ($args, $re, $what) = @$bad;
    my ($st, $out, $err) = racelab($args);
    is($st, 64, "--export-spec $what: exit 64");
    like($err, $re, "--export-spec $what: says why") or diag($err);
    is(scalar(() = $err =~ /\n/g), 1, "--export-spec $what: in one line");
}
ok(!-e $nofile, 'a refused export writes no file');

# "-": the spec alone on stdout, and it parses.
{
    my ($st, $out, $err) = racelab(['product', '-s', 'naive', '--schedule', 't1.read t2.read t1.write t2.write',
                                    '--export-spec', '-']);
    is($st, 0, '--export-spec -: exit 0');
    like($out, qr/\A# racelab product, strategy naive/, '--export-spec -: stdout starts with the spec');
    unlike($out, qr/^(?:step \S+: |result: |strategy )/m, '--export-spec -: and holds no trace or report outside comments');
    like($out, qr/^permutation s1_read s2_read s1_write s2_write final_state$/m, '--export-spec -: the permutation is the schedule');
    open my $fh, '>', "$dir/stdout.spec"; print $fh $out; close $fh;
    my ($sst2, $sout) = racelab(['spec', "$dir/stdout.spec"]);
    is($sst2, 0, '--export-spec -: racelab spec reads it back');
}

# Several threads waiting at once: the file warns that the database, not the
# file, picks who goes first.
for my $backend (backends()) {
    my ($b, $where) = @$backend;
    my $f = "$dir/many-$b.spec";
    my ($st, $out, $err) = rl(['coupon', '-s', 'locked', '-b', $b, ($where ? ('-d', $where) : ()),
                               '--schedule', 'random', '--seed', 3, '--export-spec', $f]);
    is($st, 0, "coupon/locked on $b, 4 threads at random: exported");
    my $waits = () = $out =~ /<waiting \.\.\.>/g;
    cmp_ok($waits, '>=', 2, "... several steps waited") or diag($out);
    like(slurp($f), qr/^# Caution: in this run several sessions waited at the same time/m,
         '... and the file says a replay may let another waiter go first');
}

# An unavailable database: exit 69, no file.
{
    my $f = "$dir/gone.spec";
    my ($st, $out, $err) = racelab(['product', '-s', 'naive', '-b', 'postgres', '-d', "host=$dir/nosock",
                                    '--schedule', 't1.read t2.read', '--export-spec', $f]);
    is($st, 69, '--export-spec on an unavailable PostgreSQL: exit 69');
    ok(!-e $f, '... and no file is left behind');
}

done_testing();
