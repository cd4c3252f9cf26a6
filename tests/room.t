#!/usr/bin/env perl
# room.t: racelab room on a real PostgreSQL.
#
#  - Refusals: bad codes, names, scenarios, strategies, options: one line, exit 64;
#    an unreachable server: exit 69 and never the password; a wrong code: exit 64.
#  - The acceptance run: a room with 30 students, each its own process joining
#    as an ordinary role (not the owner), one of them with a hostile name and one
#    driven key by key and killed mid-round.  Three rounds (naive, atomic,
#    locked): every row of every student reaches the projector's model exactly
#    once, in order; the counts the projector prints equal the database's; the
#    safe strategies lose nothing, naive loses sales; the student who was killed
#    is shown as gone and the round still ends.  The hostile name is stored and
#    shown as text and changes nothing.
#  - What the database enforces for a student's role: no change to the room's
#    row, no dropping, no deleting, no rows in another student's name.
#  - The steps a student takes are the demos' own: the same step names and SQL as
#    racelab's trace of each strategy, for product, coupon and tickets (every
#    strategy their declarations let a room play); the safe ones keep the
#    invariant, as the scenario's own check says, run on the room's data.
#  - What a room cannot race (transfer, product's optimistic) is refused, exit 64,
#    with the declaration it lacks.
#  - Closing drops the room's schema; the students are told and exit 0.
#  - The screens in tmux: the projector at 132x40 (the code in big digits, the
#    join command whole, lanes, a hostile name as text, the verdict, q asks
#    first, the terminal restored), a student at 80x24 (the next step and its
#    SQL before it is taken, the lane, told when the room closes).
#  - racelab room host on 127.0.0.1 only: a student joins over TCP with the
#    generated password (SCRAM), a wrong password is refused (69) and not echoed,
#    the password is printed once, and stopping removes the server's directory.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use IPC::Open2;
use Encode ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

# ---- refusals, no database needed -------------------------------------------------

for my $case ([['room'], 'no room command'],
              [['room', 'dance'], 'an unknown room command'],
              [['room', 'join', '-d', 'host=/nonexistent', '12ab56', '--name', 'a'], 'a code that is not six digits'],
              [['room', 'join', '-d', 'host=/nonexistent', '123456'], 'no --name'],
              [['room', 'join', '-d', 'host=/nonexistent', '123456', '--name', ''], 'an empty name'],
              [['room', 'join', '-d', 'host=/nonexistent', '123456', '--name', "a\e[2Jb"], 'a name with an escape sequence'],
              [['room', 'join', '-d', 'host=/nonexistent', '123456', '--name', 'x' x 65], 'a name of 65 characters'],
              [['room', 'open', '-d', 'host=/nonexistent', 'bank'], 'an unknown scenario'],
              [['room', 'open', '-d', 'host=/nonexistent', '-s', 'optimistic'], 'a strategy a room cannot play'],
              [['room', 'open', '-d', 'host=/nonexistent', 'tickets', '-s', 'deferred'], 'an unknown strategy'],
              [['room', 'open', '-d', 'host=/nonexistent', 'transfer'], 'a scenario a room cannot race'],
              [['room', 'open', '-d', 'host=/nonexistent', '-n', '0'], '-n 0'],
              [['room', 'open', '-d', 'host=/nonexistent', '--join-db', 'host=x password=s3cretpw'], '--join-db with a password'],
              [['room', 'host', '--port', '0'], 'room host --port 0'],
              [['room', 'host', '--listen', "1.2.3.4' x"], 'room host with a quote in --listen']) {
    my ($args, $what) = @$case;
    my ($st, $out, $err) = racelab($args);
    is($st, 64, "$what: exit 64");
    ok($err =~ /^racelab: .+\n\z/ || ($args->[-1] eq 'room' && $err =~ /^usage:/), "$what: one line on stderr")
        or diag($err);
    unlike($err . $out, qr/s3cretpw/, "$what: no password printed") if grep { /s3cretpw/ } @$args;
}
# What the room can race is read from the declarations, and the refusals say so.
{
    my ($st, $out, $err) = racelab(['room', 'open', '-d', 'host=/nonexistent', 'transfer']);
    like($err, qr/^racelab: transfer cannot be raced in a room: in naive, step read_from declares no SQL .*a room races product, coupon or tickets$/,
         'transfer: refused, saying which declaration is missing and what a room races');
    ($st, $out, $err) = racelab(['room', 'open', '-d', 'host=/nonexistent', '-s', 'optimistic']);
    like($err, qr{^racelab: product/optimistic cannot be played in a room \(step read declares no SQL\): choose naive, atomic or locked$},
         'product/optimistic: refused with the reason and the strategies a room plays');
    ($st, $out, $err) = racelab(['room', 'open', '-d', 'host=/nonexistent', 'tickets', '-s', 'deferred']);
    like($err, qr/^racelab: unknown strategy 'deferred': choose naive, atomic, locked or skip_locked$/,
         'tickets: an unknown strategy lists the four a room plays');
    ($st, $out, $err) = racelab(['room', 'open', '-d', 'host=/nonexistent', 'bank']);
    like($err, qr/^racelab: unknown scenario 'bank': choose product, coupon or tickets$/,
         'an unknown scenario lists the scenarios a room races');
}
{
    my ($st, $out, $err) = racelab(['room', 'open', '-d', 'host=/nonexistent-racelab user=a password=s3cretpw']);
    is($st, 69, 'an unreachable server: exit 69');
    ok($err =~ /^racelab: cannot connect .+\n\z/, 'an unreachable server: one line saying so') or diag($err);
    unlike($err . $out, qr/s3cretpw/, 'an unreachable server: the password is not printed');
}

my @pg = grep { $_->[0] eq 'postgres' } backends();
if (!@pg) {
    done_testing();
    exit 0;
}
my $pg = $pg[0][1];

sub psql { my ($sql, $conninfo) = @_; return pg_query($conninfo // $pg, $sql) }

# psql as someone else; returns (ok, stderr)
sub psql_as {
    my ($conninfo, $sql) = @_;
    my $tmp = private_tmp();
    my $rc = system("psql -XAtq -v ON_ERROR_STOP=1 '$conninfo' -c \"$sql\" >$tmp/out 2>$tmp/err");
    return ($rc == 0, RaceTest::slurp("$tmp/err"));
}

{
    my ($st, $out, $err) = racelab(['room', 'join', '-d', $pg, '987654', '--name', 'ada']);
    is($st, 64, 'a code no room has: exit 64');
    like($err, qr/^racelab: no room 987654 at .*check the code/, 'a code no room has: it says so');
}

# ---- a projector with pipes ---------------------------------------------------------

package Projector {
    sub new {
        my ($class, @args) = @_;
        my ($out, $in);
        my $pid = IPC::Open2::open2($out, $in, $RaceTest::RACELAB, 'room', 'open', '--no-ui', @args);
        $in->autoflush(1);
        return bless { pid => $pid, out => $out, in => $in, lines => [], buf => '' }, $class;
    }
    sub send { my ($p, $cmd) = @_; print { $p->{in} } "$cmd\n" }
    # Read lines until one matches RE (or a timeout); returns it and keeps all.
    sub wait_for {
        my ($p, $re, $secs) = @_;
        my $end = Time::HiRes::time() + ($secs // 60);
        my $sel = IO::Select->new($p->{out});
        while (Time::HiRes::time() < $end) {
            while ($p->{buf} =~ s/^(.*)\n//) {
                my $line = $1;
                push @{ $p->{lines} }, $line;
                return $line if $line =~ $re;
            }
            next unless $sel->can_read(0.2);
            my $n = sysread($p->{out}, my $chunk, 65536);
            return undef unless $n;
            $p->{buf} .= $chunk;
        }
        return undef;
    }
    sub lines { @{ $_[0]{lines} } }
}

# ---- the acceptance run: 30 students ------------------------------------------------

my $STUDENTS = 30;
my $OPS = 5;
my $role = 'racelab_room_student';
psql("DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN");
my $as_student = "$pg user=$role";
my $schemas_before = psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab_room%'");

my $proj = Projector->new('-d', $pg, '-n', $OPS);
my $open = $proj->wait_for(qr/^racelab room \d+ is open/);
ok($open, 'the projector opens a room') or BAIL_OUT('no room');
my ($code) = $open =~ /^racelab room (\d{6}) is open/;
my $join = $proj->wait_for(qr/^join: /);
like($join, qr/^join: racelab room join -d '.*' $code --name YOUR_NAME$/, 'it prints the exact join command');
my $schema = "racelab_room_$code";
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname = '$schema'"), 1, "the room is schema $schema");

my $hostile = "x'); DROP SCHEMA $schema CASCADE; --";
my $tmp = private_tmp();
my (%kids, $keyed_pid, $keyed_in);
for my $i (1 .. $STUDENTS - 1) {
    my $name = $i == 7 ? $hostile : sprintf('student%02d', $i);
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$tmp/s$i.out";
        open STDERR, '>', "$tmp/s$i.err";
        exec $RACELAB, 'room', 'join', '-d', $as_student, $code, '--name', $name, '--auto' or exit 127;
    }
    $kids{$pid} = $i;
}
# One student driven key by key (a line on stdin is a key press), to be killed.
$keyed_pid = open($keyed_in, '|-', "exec '$RACELAB' room join -d '$as_student' $code --name keyed"
                  . " >$tmp/keyed.out 2>$tmp/keyed.err") or die;
$keyed_in->autoflush(1);

my $joined = 0;
$joined++ while $joined < $STUDENTS && $proj->wait_for(qr/^joined \d+: /, 30);
is($joined, $STUDENTS, "$STUDENTS students join the room");
ok((grep { /^joined \d+: \Q$hostile\E$/ } $proj->lines), 'the hostile name is shown as text, whole');
is(psql("SELECT count(*) FROM $schema.students WHERE name = \$\$$hostile\$\$"), 1,
   'the hostile name is stored as it is');
my ($keyed_id) = map { /^joined (\d+): keyed$/ ? $1 : () } $proj->lines;

# What the database lets a student's role do (it is not the owner).
{
    my ($ok, $err) = psql_as($as_student, "UPDATE $schema.room SET state = 'idle'");
    ok(!$ok && $err =~ /permission denied/, "a student's role cannot change the room's state") or diag($err);
    ($ok, $err) = psql_as($as_student, "DROP SCHEMA $schema CASCADE");
    ok(!$ok && $err =~ /must be owner/, "a student's role cannot drop the room") or diag($err);
    ($ok, $err) = psql_as($as_student, "DELETE FROM $schema.steps");
    ok(!$ok && $err =~ /permission denied/, "a student's role cannot delete the room's rows") or diag($err);
    ($ok, $err) = psql_as($as_student, "TRUNCATE $schema.products");
    ok(!$ok && $err =~ /permission denied/, "a student's role cannot truncate the data") or diag($err);
    ($ok, $err) = psql_as($as_student, "INSERT INTO $schema.steps (student, n, round, op, step, kind)"
                          . " VALUES (1, 100000, 1, 0, 'read', 'd')");
    ok(!$ok && $err =~ /row-level security/, "a student's role cannot write rows in another student's name")
        or diag($err);
    ($ok, $err) = psql_as($as_student, "INSERT INTO $schema.students (name, pid, step_pid) VALUES ('ghost', 1, 1)");
    ok(!$ok && $err =~ /row-level security/, "a student's role cannot join in another connection's name")
        or diag($err);
}

# The rows the projector printed, per (student, n): each must be there once.
sub rows_seen {
    my %seen;
    for ($proj->lines) { $seen{"$1.$2"}++ if /^row (\d+)\.(\d+) / }
    return \%seen;
}

my %observed_sql;     # strategy => { step => sql } as the students ran it
my @rounds = (['naive', 'product'], ['atomic', 'product'], ['locked', 'product']);
for my $r (0 .. $#rounds) {
    my ($strategy) = @{ $rounds[$r] };
    my $round = $r + 1;
    $proj->send("start $strategy");
    ok($proj->wait_for(qr/^round $round started \($strategy\)$/), "round $round ($strategy) starts");
    if ($round == 1) {
        # The keyed student takes one step (once it has seen the round start: a
        # key before that takes nothing), then its process is killed.
        my $end = time + 30;
        sleep 0.05 while time < $end && RaceTest::slurp("$tmp/keyed.out") !~ /^round 1: naive/m;
        print $keyed_in "\n";
        ok($proj->wait_for(qr/^row $keyed_id\.\d+ d round 1 op 0 read /, 30),
           'the keyed student takes a step with a key press');
        kill 'KILL', $keyed_pid;
        waitpid $keyed_pid, 0;
        ok($proj->wait_for(qr/^gone $keyed_id: keyed$/, 30), 'the killed student is shown as gone');
    }
    my $over = $proj->wait_for(qr/^round $round over/, 120);
    ok($over, "round $round ends") or diag(join "\n", ($proj->lines)[-20 .. -1]);
    my $check = $proj->wait_for(qr/^check: round=$round /, 5) // '';
    my %c = $check =~ /(\w+)=(\S+)/g;

    # The projector's counts against the database's.
    my $db_steps = psql("SELECT count(*) FROM $schema.steps WHERE round = $round AND kind IN ('d', 's')");
    my $db_effects = psql("SELECT count(*) FROM $schema.steps WHERE round = $round AND effect = 1");
    my $db_sold = psql("SELECT number_sold FROM $schema.products WHERE id = 1");
    is($c{steps}, $db_steps, "round $round: the projector counted every step the database holds ($db_steps)");
    is($c{effects}, $db_effects, "round $round: sales committed as the database's rows say ($db_effects)");
    is($c{observed}, $db_sold, "round $round: number_sold as the database holds it ($db_sold)");
    is($c{anomalies}, $c{effects} - $c{observed}, "round $round: lost updates = committed - number_sold");
    is($c{out_of_order}, 0, "round $round: no row ever came before its predecessor");
    my $expected_effects = ($STUDENTS - 1) * $OPS;
    is($c{effects}, $expected_effects, "round $round: every student still here made all $OPS sales");
    if ($strategy eq 'naive') {
        ok($c{anomalies} > 0, "round $round: naive loses sales with $STUDENTS students ($c{anomalies})");
    } else {
        is($c{anomalies}, 0, "round $round: $strategy loses no sale");
    }
    # Exactly once: the rows the projector applied are the database's rows.
    my $seen = rows_seen();
    my @dup = grep { $seen->{$_} > 1 } keys %$seen;
    is(scalar @dup, 0, "round $round: no row shown twice");
    my @missing = grep { !$seen->{$_} } split /\n/,
        psql("SELECT student || '.' || n FROM $schema.steps");
    is(scalar @missing, 0, "round $round: every row in the database reached the projector")
        or diag("missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]");
}
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname = '$schema'"), 1,
   'the hostile name dropped nothing: the room is still there');

# The students' steps are the demos' steps: compare with racelab's own trace,
# whose SQL shows the bound values where the students' shows $1, $2.
sub unbound { my ($sql) = @_; $sql =~ s/\$\d+/?/g; return $sql }
sub trace_steps {
    my ($out) = @_;
    my %t = $out =~ /^step t1\.(\w+): (.*?)(?: -> .*| <waiting \.\.\.>)?$/mg;
    for (values %t) { s/'[^']*'/?/g; s/number_sold = \d+ WHERE/number_sold = ? WHERE/; s/(booked_by = \? WHERE id = )\d+$/$1?/ }
    return \%t;
}

for my $i (1 .. $STUDENTS - 1) {
    my $strategy = '';
    for (split /\n/, RaceTest::slurp("$tmp/s$i.out")) {
        $strategy = $1 if /^round \d+: (\w+),/;
        $observed_sql{$strategy}{$1} = unbound($2) if /^step (\w+): (.*?)(?: \[[^\]]*\])? -> /;
    }
}
for my $strategy (qw(naive atomic locked)) {
    my ($st, $out) = racelab(['product', '-b', 'postgres', '-d', $pg, '-s', $strategy, '-t', '1',
                              '--schedule', 't1.' . { naive => 'read', atomic => 'update', locked => 'begin' }->{$strategy}]);
    is_deeply($observed_sql{$strategy}, trace_steps($out), "product/$strategy: the students' steps and SQL are the demo's");
}

$proj->send('close');
ok($proj->wait_for(qr/^racelab room $code is closed/, 30), 'the room closes');
my $pst = RaceTest::wait_exit($proj->{pid}, 30);
is($pst, 0, 'the projector exits 0 (naive losing is the lesson, not a failure)');
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab_room%'"), $schemas_before,
   'the room\'s schema is dropped');
my ($exited, $zero) = (0, 0);
for my $pid (keys %kids) {
    my $s = RaceTest::wait_exit($pid, 30);
    $exited++ if defined $s;
    $zero++ if defined $s && $s == 0;
}
is($exited, $STUDENTS - 1, 'every student exits when the room closes');
is($zero, $STUDENTS - 1, 'every student exits 0');
like(RaceTest::slurp("$tmp/s1.out"), qr/room $code was closed by the instructor/, 'a student is told the room was closed');

# ---- coupon and tickets: the students' steps are the demo's, the safe strategies
# are safe.  Six students (the students' role) play each strategy a room can;
# OBSERVED is the SQL that reads what the scenario's check observes, FIRST each
# strategy's first step (a one-step schedule of the demo traces its SQL).

sub race_in_room {
    my ($scenario, $observed, %first) = @_;
    my $p = Projector->new('-d', $pg, $scenario, '-n', '3');
    my ($c) = ($p->wait_for(qr/^racelab room \d+ is open/) // '') =~ /room (\d+)/;
    my @pids;
    for my $i (1 .. 6) {
        my $pid = fork // die;
        if (!$pid) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', "$tmp/$scenario$i.out";
            open STDERR, '>', "$tmp/$scenario$i.err";
            exec $RACELAB, 'room', 'join', '-d', $as_student, $c, '--name', "$scenario$i", '--auto' or exit 127;
        }
        push @pids, $pid;
    }
    my $n = 0;
    $n++ while $n < 6 && $p->wait_for(qr/^joined /, 30);
    my %room_sql;
    my $schema = "racelab_room_$c";
    for my $strategy (sort keys %first) {
        $p->send("start $strategy");
        my $over = $p->wait_for(qr/^round \d+ over \($strategy\)/, 60);
        ok($over, "$scenario/$strategy: the round ends");
        my %c = (($p->wait_for(qr/^check: /, 5) // '') =~ /(\w+)=(\S+)/g);
        is($c{observed}, psql($observed =~ s/\bFROM (\w+)/FROM $schema.$1/r),
           "$scenario/$strategy: what the check observes is what the database holds");
        is($c{effects}, psql("SELECT count(*) FROM $schema.steps WHERE effect = 1 AND round ="
                             . " (SELECT round FROM $schema.room)"),
           "$scenario/$strategy: effects committed as the rows say");
        is($c{anomalies}, 0, "$scenario/$strategy: no anomaly") if $strategy ne 'naive';
    }
    for my $i (1 .. 6) {
        my $strategy = '';
        for (split /\n/, RaceTest::slurp("$tmp/$scenario$i.out")) {
            $strategy = $1 if /^round \d+: (\w+),/;
            $room_sql{$strategy}{$1} = unbound($2) if /^step (\w+): (.*?)(?: \[[^\]]*\])? -> /;
        }
    }
    for my $strategy (sort keys %first) {
        my ($st, $out) = racelab([$scenario, '-b', 'postgres', '-d', $pg, '-s', $strategy, '-t', '1',
                                  '--schedule', "t1.$first{$strategy}"]);
        my %trace = %{ trace_steps($out) };
        # a student who lost the race skips the rest: compare the steps it took
        my %mine = %{ $room_sql{$strategy} // {} };
        ok(%mine && !grep({ ($trace{$_} // '') ne $mine{$_} } keys %mine),
           "$scenario/$strategy: the students' steps and SQL are the demo's")
            or diag(explain(\%mine, \%trace));
    }
    $p->send('close');
    ok($p->wait_for(qr/is closed/, 30), "$scenario: the room closes");
    is(RaceTest::wait_exit($p->{pid}, 30), 0, "$scenario: the projector exits 0");
    RaceTest::wait_exit($_, 30) for @pids;
}

race_in_room('coupon', 'SELECT count(*) FROM redemptions',
             naive => 'check', atomic => 'claim', locked => 'begin');
race_in_room('tickets', 'SELECT count(*) FROM seats WHERE booked_by IS NOT NULL',
             naive => 'find', atomic => 'begin', locked => 'begin', skip_locked => 'begin');


# ---- the screens, in tmux: the projector at 132x40, a student at 80x24 -------------

SKIP: {
    skip 'tmux is not installed', 1 if system('tmux -V >/dev/null 2>&1') != 0;
    my $SOCK = private_tmp() . '/tmux';
    my $tm = sub { system('tmux', '-S', $SOCK, '-f', '/dev/null', @_) == 0 };
    my $cap = sub { Encode::decode('UTF-8', scalar `tmux -S '$SOCK' capture-pane -p -t '$_[0]' 2>/dev/null`) };
    my $until = sub {
        my ($pane, $re, $what) = @_;
        my $end = time + 30;
        my $text = '';
        while (time < $end) {
            $text = $cap->($pane);
            return $text if $text =~ $re;
            sleep 0.05;
        }
        diag("timed out waiting for $what; the pane shows:\n$text");
        return undef;
    };
    my $shell = sub {
        my ($cmd) = @_;
        return "$cmd; echo racelab-exit=\$?; echo tty: \$(stty -a | tr ' ;' '\\n\\n'"
            . " | grep -x -e icanon -e -icanon -e echo -e -echo); sleep 600";
    };
    $tm->('new-session', '-d', '-s', 'proj', '-x', 132, '-y', 40, '-e', 'LANG=C.UTF-8',
          '-e', 'LC_ALL=C.UTF-8', $shell->("'$RACELAB' room open -d '$pg' -n 1"));
    my $screen = $until->('proj', qr/Nobody has joined yet/, 'the projector');
    my ($c) = ($screen // '') =~ /racelab room (\d{6})/;
    ok($screen && $screen =~ /█/, 'projector: the code in big digits');
    like($screen // '', qr/^  racelab room join -d '[^']+' $c --name YOUR_NAME\s*$/m,
         'projector: the join command whole, on a line of its own');
    $tm->('new-session', '-d', '-s', 'stu', '-x', 80, '-y', 24, '-e', 'LANG=C.UTF-8',
          '-e', 'LC_ALL=C.UTF-8', $shell->("'$RACELAB' room join -d '$as_student' $c --name Ada"));
    ok($until->('stu', qr/Waiting for the instructor to start a round/, 'the student'),
       'student: waits for the round');
    my @pids;
    for my $name ('Bob', "x'); DROP SCHEMA racelab_room_$c CASCADE; --") {
        my $pid = fork // die;
        if (!$pid) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', '/dev/null';
            exec $RACELAB, 'room', 'join', '-d', $as_student, $c, '--name', $name, '--auto' or exit 127;
        }
        push @pids, $pid;
    }
    $screen = $until->('proj', qr/3 students here/, 'three students');
    like($screen // '', qr/^\s+\d+ Ada\b/m, 'projector: a lane for the student');
    like($screen // '', qr/^\s+\d+ x'\); DROP SCHEMA rac/m, 'projector: the hostile name as text');
    $tm->('send-keys', '-t', 'proj', 's');
    $screen = $until->('stu', qr/Your next step: read/, 'the first step');
    like($screen // '', qr/SELECT number_sold FROM products WHERE id = 1/,
         'student: the next step and its SQL, before it is taken');
    $tm->('send-keys', '-t', 'stu', 'Space');
    $screen = $until->('stu', qr/read -> \d+/, 'the read');
    like($screen // '', qr/Your next step: write.*\n.*number_sold = \$1 WHERE id = 1\s+\(\$1 = \d+\)/,
         'student: the read is on the lane, the write shows the value it will write');
    ok($until->('proj', qr/^\s+\d+ Ada\s.*read=\d+/m, 'the read on the projector'),
       'projector: the student\'s read is on the student\'s lane');
    $tm->('send-keys', '-t', 'stu', 'Space');
    $screen = $until->('proj', qr/round 1 \(naive\) is over/, 'the verdict');
    like($screen // '', qr/(?:sales? lost|sales counted)/, 'projector: the database\'s verdict');
    like($screen // '', qr/number_sold = \d+ .* 3 sales committed this round/,
         'projector: the live counts');
    $tm->('send-keys', '-t', 'proj', 'q');
    ok($until->('proj', qr/close the room and drop everything in it\? y\/n/, 'the question'),
       'projector: q asks before closing');
    $tm->('send-keys', '-t', 'proj', 'y');
    $screen = $until->('proj', qr/racelab-exit=\d+\s+tty: \S/, 'the end');
    like($screen // '', qr/racelab-exit=0/, 'projector: exits 0');
    like($screen // '', qr/tty: icanon echo|tty: echo icanon/, 'projector: the terminal is restored');
    $screen = $until->('stu', qr/racelab-exit=\d+\s+tty: \S/, 'the student\'s end');
    like($screen // '', qr/was closed by the instructor.*\n.*racelab-exit=0/s,
         'student: told the room closed, exits 0');
    RaceTest::wait_exit($_, 30) for @pids;
    system("tmux -S '$SOCK' kill-server 2>/dev/null");
}

psql("DROP ROLE IF EXISTS $role");
is(psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab_room%'"), $schemas_before,
   'no room is left behind');

# ---- room host, on 127.0.0.1 only ------------------------------------------------------

SKIP: {
    skip 'the PostgreSQL server binaries are not installed', 1
        unless (() = glob('/usr/lib/postgresql/*/bin/initdb')) || $ENV{PG_BINDIR};
    my $port;
    for (1 .. 50) {
        my $p = 20000 + int(rand(30000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p, Listen => 1, ReuseAddr => 1);
        if ($s) { close $s; $port = $p; last }
    }
    my ($hout, $hin);
    my $hpid = open2($hout, $hin, $RACELAB, 'room', 'host', '--listen', '127.0.0.1', '--port', $port);
    my $text = '';
    my $sel = IO::Select->new($hout);
    my $end = time + 60;
    while (time < $end && $text !~ /stops the server/) {
        next unless $sel->can_read(1);
        my $n = sysread($hout, my $chunk, 4096);
        last if defined $n && $n == 0;
        $text .= $chunk if $n;
    }
    my ($student) = $text =~ /^  (host=127\.0\.0\.1 port=$port dbname=\S+ user=\S+ password=(\S+))$/m;
    my ($password) = $text =~ /password=(\S+)$/m;
    my ($owner) = $text =~ /room open -d '([^']+)'/;
    ok($student && $owner, 'room host prints the students\' conninfo and the instructor\'s command')
        or diag($text);
    my $count = () = $text =~ /\Q$password\E/g;
    is($count, 1, 'the password is printed once, in the conninfo to hand out');
    my ($hdir) = $text =~ m{\(its data: (/tmp/racelab-host-\w+)};
    ok($hdir && -d $hdir, 'its data is in a directory of its own');

    my $p = Projector->new('-d', $owner, '--join-db', "host=127.0.0.1 port=$port dbname=racelab user=racelab_student");
    my ($c) = ($p->wait_for(qr/^racelab room \d+ is open/) // '') =~ /room (\d+)/;
    my $join = $p->wait_for(qr/^join: /) // '';
    unlike($join, qr/\Q$password\E/, 'the projector does not show the password');
    my ($st, $out, $err) = racelab(['room', 'join', '-d', "host=127.0.0.1 port=$port dbname=racelab"
                                    . " user=racelab_student password=wrong$password", $c, '--name', 'eve']);
    is($st, 69, 'a wrong password: exit 69');
    unlike($out . $err, qr/\Q$password\E/, 'a wrong password is not echoed');
    my $spid = fork // die;
    if (!$spid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$tmp/h.out";
        open STDERR, '>', "$tmp/h.err";
        exec $RACELAB, 'room', 'join', '-d', $student, $c, '--name', 'ada', '--auto' or exit 127;
    }
    ok($p->wait_for(qr/^joined \d+: ada$/, 30), 'a student joins over TCP with the password (SCRAM)');
    my ($ok, $perr) = psql_as($student, "DROP SCHEMA racelab_room_$c CASCADE");
    ok(!$ok && $perr =~ /must be owner/, 'the students\' role cannot drop the room') or diag($perr);
    $p->send('start');
    ok($p->wait_for(qr/^round 1 over/, 60), 'a round on the hosted server ends');
    $p->send('close');
    ok($p->wait_for(qr/is closed/, 30), 'the room on the hosted server closes');
    is(RaceTest::wait_exit($p->{pid}, 30), 0, 'the projector exits 0');
    is(RaceTest::wait_exit($spid, 30), 0, 'the student exits 0 when the room closes');
    close $hin;         # stdin closed: the host stops
    is(RaceTest::wait_exit($hpid, 60), 0, 'room host stops when its stdin closes, exit 0');
    ok($hdir && !-e $hdir, 'and its directory is gone');
}

done_testing();
