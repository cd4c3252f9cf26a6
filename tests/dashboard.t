#!/usr/bin/env perl
# dashboard.t: the real binary on a real terminal (tmux, on a private socket): at
# 132x40 all three panels, their lanes and counts appear and the verdicts come
# from the database; q exits 0 and restores the terminal; a resize redraws; a tiny
# terminal shows a one-line message and recovers; Ctrl-C exits 130, restores the
# terminal and leaves no database behind; NO_COLOR and TERM=dumb are honoured.
# Step mode (--step): a learner makes the lost update with keys alone and wins,
# and the report after q says so; undo then another order loses nothing; the
# locked strategy shows T2 waiting for T1; keys for threads the run does not have
# are refused; s turns a free run into step mode.
# Every wait polls the pane with a deadline: no bare sleeps.
use strict;
use warnings;
use utf8;
use open qw(:std :encoding(UTF-8));
use FindBin;
use lib $FindBin::Bin;
use RaceTest qw(:DEFAULT :tmux);
use Test::More;
use Time::HiRes qw(sleep time);

plan skip_all => 'tmux is not installed' if system('tmux -V >/dev/null 2>&1') != 0;


sub panels_and_lanes {
    my ($t) = @_;
    return $t =~ /naive/ && $t =~ /atomic/ && $t =~ /locked/
        && $t =~ /T1 / && $t =~ /T2 / && ($t =~ /expected \d+ · (?:observed|got) \d+/);
}

sub restored {
    my ($name, $label) = @_;
    is(pane_var($name, 'alternate_on'), '0', "$label: the alternate screen is closed");
    # The shell prints the tty line just after racelab-exit=: wait for it.
    like(wait_for($name, qr/^tty: /m, 'the tty line') // '', qr/^tty: icanon echo$/m,
         "$label: the tty is back in canonical mode with echo");
}

# --- 132x40: everything appears, verdicts at the end, q exits 0 (each backend) ----
for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $tmp = private_tmp();
    my $args = "-b $backend -t 2 -n 3" . (defined $where ? " -d '$where'" : '');
    my $s = "full-$backend";
    tmux_start($s, 132, 40, $args, TMPDIR => $tmp, RACELAB_PACE_MS => 40);
    my $t = wait_for($s, \&panels_and_lanes, 'the panels');
    ok($t, "$backend 132x40: three panels with their lanes and live counts");
    like($t // '', qr/so far/, "$backend 132x40: live figures are labelled so far");
    like($t // '', qr/space\s+pause.*q\s+quit/, "$backend 132x40: the footer lists the keys");
    $t = wait_for($s, qr/finished in/, 'the end of the run');
    like($t // '', qr/✗ race: .*lost update|✓ ok: all 6 sales counted/,
        "$backend 132x40: the verdicts appear when the run ends");
    like($t // '', qr/─ database /, "$backend 132x40: the final figures are the database's");
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, "$backend: q exits 0");
    like($t // '', qr/strategy\s+expected\s+observed/,
         "$backend: the text report is printed after the dashboard");
    if ($backend eq 'postgres') {   # every schema is dropped: nothing is "kept"
        unlike($t // '', qr/databases kept/, "postgres: the report claims nothing is kept");
    } else {
        unlike($t // '', qr/databases kept/, "sqlite: a temporary directory is not kept");
    }
    like($t // '', qr/paced: every step waited about \d+ ms/,
         "$backend: the report says the dashboard's run was paced");
    unlike($t // '', qr/\d ops\/s/, "$backend: the dashboard shows no paced rate as a rate");
    restored($s, "$backend q");
}

# --- the keys: pause, speed, help, restart -------------------------------------
{
    tmux_start('keys', 132, 40, '-n 1000', TMPDIR => private_tmp());
    ok(wait_for('keys', qr/running [1-9]\.\d s/, 'a second of running'), 'keys: the run is going');
    tmux('send-keys', '-t', 'keys', 'Space');
    ok(wait_for('keys', qr/PAUSED/, 'PAUSED'), 'keys: space pauses');
    tmux('send-keys', '-t', 'keys', 'Space');
    ok(wait_for('keys', qr/running \d+\.\d s/, 'running'), 'keys: space resumes');
    tmux('send-keys', '-t', 'keys', '+');
    ok(wait_for('keys', qr/speed 150 ms\/step/, 'a faster speed'), 'keys: + is faster');
    tmux('send-keys', '-t', 'keys', '-', '-');
    ok(wait_for('keys', qr/speed 400 ms\/step/, 'a slower speed'), 'keys: - is slower');
    tmux('send-keys', '-t', 'keys', '?');
    ok(wait_for('keys', qr/What you see/, 'the help'), 'keys: ? opens the help');
    tmux('send-keys', '-t', 'keys', '?');
    ok(wait_for('keys', sub { $_[0] !~ /What you see/ }, 'the help to close'), 'keys: ? closes it');
    ok(wait_for('keys', qr/running [2-9]\.\d s/, 'two seconds of running'), 'keys: still running');
    tmux('send-keys', '-t', 'keys', 'r');
    ok(wait_for('keys', qr/running [01]\.\d s/, 'a fresh run'), 'keys: r restarts the run');
    tmux('send-keys', '-t', 'keys', 'q');
    like(wait_for('keys', qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'keys: q exits 0');
    restored('keys', 'keys');
}

# --- the database lost mid-run: the terminal first, then the error, exit 69 -------
for my $b (grep { $_->[0] eq 'postgres' } backends()) {
    my $where = $b->[1];
    tmux_start('lost', 132, 40, "-b postgres -d '$where' -n 1000", TMPDIR => private_tmp());
    ok(wait_for('lost', \&panels_and_lanes, 'the panels'), 'database lost: the dashboard is up');
    # Every connection racelab has, the workers' and the harness's own.
    my $killed = `psql -XAtq '$where' -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'racelab' AND pid <> pg_backend_pid()"`;
    ok(($killed // 0) > 0, 'database lost: racelab\'s connections are terminated');
    my $t = wait_for('lost', qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=69/, 'database lost: exit 69');
    like($t // '', qr/racelab: the database was lost during the run: /,
         'database lost: the error is printed after the dashboard closes');
    restored('lost', 'database lost');
}

# --- the other sizes the course is shown at -------------------------------------
for my $size ([80, 24], [200, 60]) {
    my ($w, $h) = @$size;
    tmux_start("size$w", $w, $h, '-n 1000', TMPDIR => private_tmp());
    my $t = wait_for("size$w", \&panels_and_lanes, 'the panels');
    ok($t, "${w}x$h: three panels with their lanes and live counts");
    ok($t && !grep({ length > $w } split /\n/, $t), "${w}x$h: nothing runs past the edge");
    tmux('send-keys', '-t', "size$w", 'q');
    like(wait_for("size$w", qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         "${w}x$h: q exits 0");
}

# --- resize redraws --------------------------------------------------------------
{
    tmux_start('resize', 132, 40, '-n 1000', TMPDIR => private_tmp());
    ok(wait_for('resize', \&panels_and_lanes, 'the panels'), 'resize: the dashboard is up');
    tmux('resize-window', '-t', 'resize', '-x', 100, '-y', 30);
    my $t = wait_for('resize', sub {
        my @l = split /\n/, $_[0];
        my ($top) = grep { /┌─ naive/ } @l;
        return $top && $top =~ /┐\s*$/ && length($top =~ s/\s+$//r) == 100;
    }, 'a 100-column layout');
    ok($t, 'resize: at 100x30 the panels are redrawn to the new width');
    tmux('resize-window', '-t', 'resize', '-x', 132, '-y', 40);
    ok(wait_for('resize', sub { my ($top) = grep { /┌─ naive/ } split /\n/, $_[0];
                                $top && length($top =~ s/\s+$//r) == 132 }, '132 columns again'),
       'resize: back at 132x40 the panels are redrawn again');
    tmux('send-keys', '-t', 'resize', 'q');
    like(wait_for('resize', qr/racelab-exit=\d+/, 'racelab to exit') // '',
         qr/racelab-exit=0/, 'resize: q during a run exits 0');
}

# --- a tiny terminal: the message, then recovery ------------------------------------
{
    tmux_start('tiny', 30, 8, '-n 1000', TMPDIR => private_tmp());
    my $t = wait_for('tiny', qr/too small/i, 'the too-small message');
    ok($t, 'tiny: a 30x8 terminal shows the too-small message');
    is(scalar(grep { /\S/ } split /\n/, $t // ''), 1, 'tiny: on one line, and nothing else');
    tmux('resize-window', '-t', 'tiny', '-x', 132, '-y', 40);
    ok(wait_for('tiny', \&panels_and_lanes, 'the panels'), 'tiny: enlarged, the panels come back');
    tmux('send-keys', '-t', 'tiny', 'q');
    like(wait_for('tiny', qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'tiny: q exits 0');
}

# --- Ctrl-C: exits 130, restores the terminal, leaves nothing behind ----------------
{
    my $tmp = private_tmp();
    tmux_start('ctrlc', 132, 40, '-n 1000', TMPDIR => $tmp);
    ok(wait_for('ctrlc', \&panels_and_lanes, 'the panels'), 'Ctrl-C: the dashboard is up');
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    my $t = wait_for('ctrlc', qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=130/, 'Ctrl-C exits 130');
    like($t // '', qr/interrupted; the databases were cleaned up/, 'Ctrl-C: says so after the dashboard');
    restored('ctrlc', 'Ctrl-C');
    opendir my $dh, $tmp or die;
    my @left = grep { !/^\.\.?$/ } readdir $dh;
    is_deeply(\@left, [], 'Ctrl-C: the temporary databases are gone');
}

# --- step mode: you are the scheduler -----------------------------------------------
sub steps_taken {
    my ($n) = @_;
    return qr/\b$n steps? taken/;
}

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $db = "-b $backend" . (defined $where ? " -d '$where'" : '');

    # Keys typed ahead, all at once: the run takes them in order.
    my $s = "step-win-$backend";
    tmux_start($s, 132, 40, "product -s naive -t 2 --step $db", TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move: 1 or 2 moves that thread one step/, 'step mode'),
       "$backend step: the dashboard waits for the learner's move");
    like(capture($s), qr/Goal: make the counter lose a sale/, "$backend step: the goal is shown");
    like(capture($s), qr/next  read: SELECT number_sold FROM products WHERE id = 1/,
         "$backend step: each lane says what its thread will do next");
    tmux('send-keys', '-t', $s, '1', '2', '1', '2');
    my $t = wait_for($s, qr/You won/, 'the win');
    like($t // '', qr/✓ You won: T2 wrote 1 over T1's 1, so T1's sale is lost/,
         "$backend step: keys 1 2 1 2 lose a sale, and the dashboard says the learner won");
    like($t // '', qr/T2 read 0 write 1 ✗ overwrote T1's 1/, "$backend step: the mark on T2's lane");
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, "$backend step: q exits 0");
    like($t // '', qr/^naive\s+race 1 of 2 sales lost — lost update$/m,
         "$backend step: the report after q says 1 of 2 sales lost");
    like($t // '', qr/^schedule: t1\.read t2\.read t1\.write t2\.write$/m,
         "$backend step: the report names the steps taken as a schedule");
    like($t // '', qr/^step t2\.write: UPDATE products SET number_sold = 1 WHERE id = 1$/m,
         "$backend step: the trace is printed after the dashboard");
    restored($s, "$backend step");

    # The locked strategy: T2 waits for T1 (at begin on SQLite, at lock on PostgreSQL).
    $s = "step-locked-$backend";
    tmux_start($s, 132, 40, "product -s locked -t 2 --step $db", TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move/, 'step mode'), "$backend step locked: waits for a move");
    my @keys = $backend eq 'postgres' ? qw(1 1 2 2) : qw(1 1 2);
    tmux('send-keys', '-t', $s, @keys);
    $t = wait_for($s, qr/T2 → T1/, 'T2 waiting for T1');
    like($t // '', qr/⏳ T2 → T1  T2's (?:begin|lock) waits for the (?:database write|row) lock,/,
         "$backend step locked: T2's lane shows it waits for T1's lock");
    like($t // '', qr/holds number_sold = 0, as it read it · the (?:database write|row) lock/,
         "$backend step locked: T1's lane shows the lock it holds");
    tmux('send-keys', '-t', $s, '2');
    ok(wait_for($s, qr/T2 waits for T1's lock: move T1 on until it commits/, 'the refusal'),
       "$backend step locked: a key for a waiting thread is refused, saying why");
    tmux('send-keys', '-t', $s, '1', '1');
    ok(wait_for($s, sub { $_[0] =~ /next  (?:lock|write):/ && $_[0] !~ /T2 → T1/ },
                'T2 to get the lock'), "$backend step locked: T1's commit lets T2 go on");
    tmux('send-keys', '-t', $s, 'n', 'n', 'n');
    $t = wait_for($s, qr/No order of steps loses a sale/, 'the end of the run');
    like($t // '', qr/the second thread waits at (?:BEGIN IMMEDIATE|SELECT … FOR UPDATE) until the first commits, so it reads the new value/,
         "$backend step locked: at the end, why no order of steps can lose a sale");
    tmux('send-keys', '-t', $s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         "$backend step locked: q exits 0");
}

# Undo, one key at a time, then another order: no sale lost.
{
    my $s = 'step-undo';
    tmux_start($s, 132, 40, 'product -s naive -t 2 --step', TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move/, 'step mode'), 'undo: step mode is up');
    my $n = 0;
    for my $k (qw(1 2 1 2)) {
        tmux('send-keys', '-t', $s, $k);
        $n++;
        ok(wait_for($s, steps_taken($n), "$n steps"), "undo: key $k takes step $n");
    }
    ok(wait_for($s, qr/You won/, 'the win'), 'undo: the lost update is made');
    for my $left (3, 2, 1) {
        tmux('send-keys', '-t', $s, 'u');
        ok(wait_for($s, sub { $_[0] =~ steps_taken($left) && $_[0] =~ /your move/ },
                    "$left steps after an undo"), "undo: u goes back to $left steps taken");
    }
    my $t = wait_for($s, sub {
        $_[0] =~ /│T1 read 0\s+│\n│\s+next  write: UPDATE products SET number_sold = 1 WHERE id = 1\s+│$/m
            && $_[0] =~ /│T2\s+│\n│\s+next  read: SELECT number_sold/ }, 'the state after key 1');
    ok($t, 'undo: after three undos T1 has read 0 and is about to write 1, and T2 has not'
       . ' started, as after key 1');
    unlike($t // '', qr/You won/, 'undo: the win is undone');
    for my $k (qw(1 2 2)) {
        tmux('send-keys', '-t', $s, $k);
        $n = $n == 4 ? 2 : $n + 1;
    }
    $t = wait_for($s, qr/No sale lost this time/, 'the end of the run');
    ok($t, 'undo: then 1 2 2 — T1 writes before T2 reads — loses nothing');
    like($t // '', qr/T2 read 1 write 2/, 'undo: T2 read the new value');
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/^naive\s+ok\s+all 2 sales counted$/m, 'undo: the report: all 2 sales counted');
    like($t // '', qr/^schedule: t1\.read t1\.write t2\.read t2\.write$/m,
         'undo: the schedule is the steps of the last run');
}

# Keys for threads the run does not have; s turns a free run into step mode.
{
    my $s = 'step-one';
    tmux_start($s, 132, 40, 'coupon -t 1 --step', TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move: 1 moves that thread/, 'step mode'), 'one thread: step mode is up');
    tmux('send-keys', '-t', $s, '2');
    ok(wait_for($s, qr/there is no T2: this run has one thread, T1 \(-t 1\)/, 'the refusal'),
       'one thread: key 2 is refused');
    tmux('send-keys', '-t', $s, '9');
    ok(wait_for($s, qr/there is no T9/, 'the refusal'), 'one thread: key 9 is refused');
    like(capture($s), steps_taken(0), 'one thread: no step was taken');
    tmux('send-keys', '-t', $s, '1');
    ok(wait_for($s, steps_taken(1), 'one step'), 'one thread: key 1 takes a step');
    tmux('send-keys', '-t', $s, 'q');
    ok(wait_for($s, qr/racelab-exit=0/, 'racelab to exit'), 'one thread: q exits 0');

    $s = 'step-toggle';
    tmux_start($s, 132, 40, '-n 1000', TMPDIR => private_tmp());
    ok(wait_for($s, \&panels_and_lanes, 'the panels'), 'toggle: a free run is up');
    tmux('send-keys', '-t', $s, 's');
    my $t = wait_for($s, qr/your move/, 'step mode');
    ok($t && $t =~ /┌─ naive / && $t !~ /atomic/, 'toggle: s starts over in step mode, naive alone');
    tmux('send-keys', '-t', $s, 's');
    ok(wait_for($s, qr/running \d+\.\d s/, 'the run playing'), 'toggle: s again lets the run play');
    tmux('send-keys', '-t', $s, 's');
    ok(wait_for($s, qr/your move/, 'step mode'), 'toggle: and s stops it before the next step');
    tmux('send-keys', '-t', $s, 'q');
    ok(wait_for($s, qr/racelab-exit=0/, 'racelab to exit'), 'toggle: q exits 0');
}

# --- the presenter: a paused free run moved on by keys; a schedule step by step -----
for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $db = "-b $backend" . (defined $where ? " -d '$where'" : '');
    my $s = "present-$backend";
    tmux_start($s, 80, 24, "product $db --present -s naive,locked -t 2 -n 1", TMPDIR => private_tmp());
    my $t = wait_for($s, qr/space\/n next step/, 'the presenter');
    ok($t && $t =~ /─ naive / && $t =~ /─ locked /, "$backend present 80x24: two panels");
    unlike($t // '', qr/T1 \S/, "$backend present: paused until a key moves it");
    tmux('send-keys', '-t', $s, 'n');
    ok(wait_for($s, qr/> T\d read number_sold = 0/, 'the first read'),
       "$backend present: n takes one step in each panel, and the narration says it");
    tmux('send-keys', '-t', $s, 'b');
    ok(wait_for($s, sub { $_[0] !~ /naive/ }, 'a blank screen'), "$backend present: b blanks the screen");
    tmux('send-keys', '-t', $s, 'b');
    ok(wait_for($s, qr/─ naive /, 'the panels again'), "$backend present: b again brings it back");
    tmux('send-keys', '-t', $s, 'm');
    ok(wait_for($s, qr/m drops a marker when --record is on|marker dropped/, 'the marker message'),
       "$backend present: m answers on the status line");
    tmux('send-keys', '-t', $s, 'p');
    $t = wait_for($s, qr/done: the figures are the database's/, 'the end of the run');
    ok($t, "$backend present: p plays the run to its end");
    like($t // '', qr/expected 2 · observed 2/, "$backend present: locked's count, from the database");
    unlike($t // '', qr/ops\/s/, "$backend present: no per-second figures");
    tmux('send-keys', '-t', $s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         "$backend present: q exits 0");
    restored($s, "$backend present");
}
{
    my $s = 'present-schedule';
    tmux_start($s, 100, 30, "product --present -s naive --schedule 't1.read t2.read t1.write t2.write'",
          TMPDIR => private_tmp());
    ok(wait_for($s, qr/space\/n next step/, 'the presenter'), 'present --schedule: up');
    for my $n (1 .. 4) {
        tmux('send-keys', '-t', $s, 'Space');
        wait_for($s, qr/> T\d/, "step $n") if $n == 1;
    }
    ok(wait_for($s, qr/> T2 wrote 1 over T1's 1: T1's sale is lost/, 'the lost update told'),
       "present --schedule: four spaces take the schedule's four steps, and the narration"
       . " tells the lost update");
    tmux('send-keys', '-t', $s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'present --schedule: q exits 0');

    # A lesson's demo, presented: lesson 2 is the same schedule.
    $s = 'present-lesson';
    tmux_start($s, 100, 30, "lesson 2 --present", TMPDIR => private_tmp());
    ok(wait_for($s, qr/-- run it on the dashboard/, 'the lesson text'),
       'lesson 2 --present: the text first, then a pause');
    tmux('send-keys', '-t', $s, 'Enter');
    ok(wait_for($s, qr/space\/n next step/, 'the presenter'), 'lesson 2 --present: the presenter');
    tmux('send-keys', '-t', $s, 'n') for 1 .. 4;
    ok(wait_for($s, qr/> T2 wrote 1 over T1's 1: T1's sale is lost/, 'the lost update told'),
       "lesson 2 --present: the lesson's schedule, narrated");
    tmux('send-keys', '-t', $s, 'q');
    ok(wait_for($s, qr/-- the answer \(any key/, 'the pause before the answer'),
       'lesson 2 --present: q ends the demo, and the lesson waits before its answer');
    tmux('send-keys', '-t', $s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'lesson 2 --present: q at that pause ends it (0)');
}

# --- NO_COLOR, and a terminal that cannot position the cursor --------------------
{
    tmux_start('nocolor', 132, 40, '-n 1000', TMPDIR => private_tmp(), NO_COLOR => 1);
    ok(wait_for('nocolor', \&panels_and_lanes, 'the panels'), 'NO_COLOR: the dashboard is up');
    my $esc = capture('nocolor', '-e');
    unlike($esc, qr/\e\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|38;5;\d+|48;5;\d+)m/,
           'NO_COLOR: no colour escape in the pane');
    tmux('send-keys', '-t', 'nocolor', 'q');
    ok(wait_for('nocolor', qr/racelab-exit=0/, 'racelab to exit'), 'NO_COLOR: q exits 0');

    tmux_start('dumb', 132, 40, '-n 2 -t 2', TMPDIR => private_tmp(), TERM => 'dumb');
    my $t = wait_for('dumb', qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/strategy\s+expected\s+observed/, 'TERM=dumb: the text report, not the dashboard');
    unlike($t // '', qr/space\s+pause/, 'TERM=dumb: no dashboard was drawn');
    like($t // '', qr/racelab-exit=0/, 'TERM=dumb: exits 0');
}

done_testing();
