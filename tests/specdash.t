#!/usr/bin/env perl
# specdash.t: a spec file on the dashboard (racelab spec, racelab matrix --show),
# on a real terminal (tmux, on a private socket), on SQLite and PostgreSQL.
#  - Played at a pace: a lane per session, titled with its key and name; every
#    permutation played; after q, the text printed is what racelab spec --no-ui
#    prints for the file, line for line, and the terminal is restored.
#  - Step mode: the learner picks sessions by number in an order of their own;
#    a step that waits for a lock is shown waiting, its session's key refused
#    while it waits; the commit releases it (<... completed>); undo replays all
#    but the last step on a fresh database and the step waits again; the text
#    after q is the learner's permutation, with its <waiting ...>.
#  - racelab matrix --show P4 --level "read committed" (PostgreSQL): the lost
#    update happens on screen, and the text after q says so.
#  - Ctrl-C: exit 130, terminal restored, no file or schema left; a terminal too
#    small says so and recovers; NO_COLOR with an ASCII locale still shows the wait.
#  - --step off a terminal, and matrix --step without --show: exit 64.
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

my $ROOT = "$FindBin::Bin/..";
my $SPEC = "$ROOT/specs/two-writers.spec";




sub restored {
    my ($name, $label) = @_;
    is(pane_var($name, 'alternate_on'), '0', "$label: the alternate screen is closed");
    like(wait_for($name, qr/^tty: /m, 'the tty line') // '', qr/^tty: icanon echo$/m,
         "$label: the tty is back in canonical mode with echo");
}

# What the pane's history holds from "Parsed test spec" to the exit line, long
# lines joined again, trailing blanks cut.
sub printed {
    my ($name) = @_;
    my $all = capture($name, '-J', '-S', '-');
    my ($text) = $all =~ /(Parsed test spec.*?)^racelab-exit=/ms;
    $text //= '';
    $text =~ s/[ \t]+$//mg;
    $text =~ s/\n+\z/\n/;
    return $text;
}

sub normalized { my ($t) = @_; $t =~ s/[ \t]+$//mg; $t =~ s/\n+\z/\n/; return $t }

sub schemas {
    my ($pg) = @_;
    my $n = `psql -XAtq '$pg' -c "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'"`;
    chomp $n;
    return $n;
}

# --- off a terminal: --step is refused ----------------------------------------
{
    my ($st, $out, $err) = racelab(['spec', $SPEC, '--step']);
    is($st, 64, 'spec --step off a terminal: exit 64');
    like($err, qr/--step needs a terminal/, 'spec --step off a terminal: says why');
    ($st, $out, $err) = racelab(['matrix', '--step', '-b', 'sqlite']);
    is($st, 64, 'matrix --step without --show: exit 64');
    like($err, qr/--step goes with one cell of the matrix/, 'matrix --step: says what goes with it');
}

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $db = "-b $backend" . (defined $where ? " -d '$where'" : '');
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());

    # --- played at a pace, every permutation; the text after q is racelab spec's ---
    my $s = "play-$backend";
    my $tmp = private_tmp();
    tmux_start($s, 80, 24, "spec $SPEC $db", TMPDIR => $tmp, RACELAB_PACE_MS => 20);
    my $t = wait_for($s, qr/^─ 1  one ─+┬─ 2  two ─+┬─ 3  count ─+$/m, 'the lanes');
    ok($t, "$backend play 80x24: one lane per session, each titled with its key and name");
    $t = wait_for($s, qr/permutation 3 of 3.*\n.*permutation finished/, 'the last permutation');
    ok($t, "$backend play: the three permutations are played, one after the other");
    like($t // '', qr/│two_ink UPDATE stock SET/, "$backend play: a step shows its name and SQL on its lane");
    like($t // '', qr/│qty = qty - 1 WHERE item …│/, "$backend play: SQL too long for the lane wraps once, then is cut with …");
    like($t // '', qr/│pens\|\s+\d+\s*$/m, "$backend play: the rows a step returned hang below it");
    ok($t && !grep({ length > 80 } split /\n/, $t), "$backend play 80x24: nothing runs past the edge");
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, "$backend play: q exits 0");
    restored($s, "$backend play");
    my ($st, $batch) = racelab(['spec', $SPEC, @db, '--no-ui']);
    is(printed($s), normalized($batch),
       "$backend play: the text printed after q is racelab spec --no-ui's, line for line");

    # --- step mode: you choose the order ----------------------------------------
    $s = "step-$backend";
    $tmp = private_tmp();
    tmux_start($s, 80, 24, "spec $SPEC $db --step", TMPDIR => $tmp);
    ok(wait_for($s, qr/your move: 1 to 3 picks the session/, 'step mode'),
       "$backend step: the dashboard waits for the learner's move");
    tmux('send-keys', '-t', $s, '>');
    ok(wait_for($s, qr/permutation 2 of 3.*\n.*your move.*0 of 7 steps/, 'permutation 2'),
       "$backend step: > goes to the next permutation");
    like(capture($s), qr/next one_begin: BEGIN;\s+│next two_begin: BEGIN;\s+│next total:/,
         "$backend step: under each lane, the step its session takes next");
    # two_begin first: an order of the learner's own; then two_pens waits for one.
    tmux('send-keys', '-t', $s, '2', '1', '1', '2');
    $t = wait_for($s, qr/│⏳ two_pens UPDATE stock/, 'two_pens waiting');
    ok($t, "$backend step: two_pens is shown waiting for the lock");
    like($t // '', qr/4 of 7 steps/, "$backend step: keys 2 1 1 2 took four steps");
    like($t // '', qr/permutation 2 of 3, your order/, "$backend step: the title says the order is the learner's");
    like($t // '', qr/│⏳ its step waits\s/, "$backend step: under two's lane, its step waits");
    like($t // '', qr/^step two_pens: UPDATE stock SET qty = qty - 2 WHERE item = 'pens'; <waiting \.\.\.>$/m,
         "$backend step: the tester's own line for it, at the bottom");
    tmux('send-keys', '-t', $s, '2');
    ok(wait_for($s, qr/two's step waits: move another session/, 'the refusal'),
       "$backend step: key 2 is refused while two's step waits");
    like(capture($s), qr/4 of 7 steps/, "$backend step: the refused key took no step");
    tmux('send-keys', '-t', $s, '1');
    $t = wait_for($s, qr/│two_pens <\.\.\. completed>/, 'two_pens to complete');
    ok($t, "$backend step: one_commit releases two_pens (<... completed> on its lane)");
    unlike($t // '', qr/⏳ two_pens/, "$backend step: the wait is no longer highlighted");
    tmux('send-keys', '-t', $s, 'u');
    $t = wait_for($s, qr/4 of 7 steps.*\n(?:.*\n)*.*│⏳ two_pens/, 'the undo');
    ok($t, "$backend step: u replays the four steps before one_commit, and two_pens waits again");
    unlike($t // '', qr/one_commit COMMIT/, "$backend step: one_commit is undone");
    tmux('send-keys', '-t', $s, '1', 'n', 'n');
    $t = wait_for($s, qr/permutation finished/, 'the end of the permutation');
    ok($t, "$backend step: 1 then n n finish the permutation");
    like($t // '', qr/│pens\|\s+7\s*$/m, "$backend step: both decrements applied: pens 7");
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, "$backend step: q exits 0");
    restored($s, "$backend step");
    my $text = printed($s);
    my @perms = $text =~ /^starting permutation: (.*)$/mg;
    is_deeply(\@perms, ['two_begin one_begin one_pens two_pens one_commit two_commit total'],
              "$backend step: the text after q is one permutation, in the learner's order")
        or diag($text);
    like($text, qr/^step two_pens: UPDATE stock SET qty = qty - 2 WHERE item = 'pens'; <waiting \.\.\.>\nstep one_commit: COMMIT;\nstep two_pens: <\.\.\. completed>$/m,
         "$backend step: ... with two_pens waiting until one_commit");
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], "$backend step: no database file left behind");
}

# --- matrix --show: one cell replayed on the dashboard (PostgreSQL) ----------------
for my $b (grep { $_->[0] eq 'postgres' } backends()) {
    my $where = $b->[1];
    my $before = schemas($where);
    my $s = 'matrix';
    tmux_start($s, 80, 24, "matrix --show P4 --level 'read committed' -b postgres -d '$where'",
          RACELAB_PACE_MS => 20);
    my $t = wait_for($s, qr/P4 lost update: happened \(Hermitage: happens, agrees\)/, 'the verdict');
    ok($t, 'matrix --show P4 read committed: the lost update happens on the dashboard');
    like($t // '', qr/racelab matrix: P4 lost update under read committed/, 'matrix --show: the cell in the title');
    like($t // '', qr/│t1 ─+┬─ 2  t2 ─+$|─ 1  t1 ─+┬─ 2  t2 ─+$/m, 'matrix --show: a lane per transaction');
    like($t // '', qr/│t2_w <\.\.\. completed>/, "matrix --show: t2's write waited for t1's commit, then went through");
    is(scalar(() = ($t // '') =~ /→ amount = 10\s/g), 2, 'matrix --show: both transactions read 10');
    tmux('send-keys', '-t', $s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, 'matrix --show: q exits 0');
    restored($s, 'matrix --show');
    my $text = capture($s, '-J', '-S', '-');
    like($text, qr/^P4 lost update under read committed \(PostgreSQL [^\n]*\): the spec .*p4\.spec, as run$/m,
         'matrix --show: the text after q names the cell and the spec');
    like($text, qr/^step t2_w: <\.\.\. completed>$/m, 'matrix --show: ... the tester\'s text of the run');
    like($text, qr/^P4: happened \(Hermitage: happens, agrees\)$/m, '... and the verdict');
    is(schemas($where), $before, 'matrix --show: no schema left behind');
}

# --- Ctrl-C, a small terminal, NO_COLOR and ASCII ---------------------------------
{
    my $tmp = private_tmp();
    tmux_start('ctrlc', 80, 24, "spec $SPEC --step", TMPDIR => $tmp);
    ok(wait_for('ctrlc', qr/your move/, 'step mode'), 'Ctrl-C: the dashboard is up');
    tmux('send-keys', '-t', 'ctrlc', '1', '1');
    ok(wait_for('ctrlc', qr/2 of 7 steps/, 'two steps'), 'Ctrl-C: two steps taken');
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    my $t = wait_for('ctrlc', qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=130/, 'Ctrl-C exits 130');
    like($t // '', qr/interrupted; the database was cleaned up/, 'Ctrl-C: says so after the dashboard');
    like($t // '', qr/^step one_pens: UPDATE stock SET qty = qty - 1 WHERE item = 'pens';$/m,
         'Ctrl-C: what ran is printed');
    restored('ctrlc', 'Ctrl-C');
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], 'Ctrl-C: the database file is gone');
}
for my $b (grep { $_->[0] eq 'postgres' } backends()) {
    my $where = $b->[1];
    my $before = schemas($where);
    tmux_start('ctrlc-pg', 80, 24, "spec $SPEC -b postgres -d '$where' --step");
    ok(wait_for('ctrlc-pg', qr/your move/, 'step mode'), 'postgres Ctrl-C: the dashboard is up');
    tmux('send-keys', '-t', 'ctrlc-pg', '>', '1', '1', '2', '2');
    ok(wait_for('ctrlc-pg', qr/│⏳ two_pens/, 'a wait'), 'postgres Ctrl-C: a step waits');
    tmux('send-keys', '-t', 'ctrlc-pg', 'C-c');
    like(wait_for('ctrlc-pg', qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=130/,
         'postgres Ctrl-C during a wait exits 130');
    is(schemas($where), $before, 'postgres Ctrl-C: no schema left behind');
}
{
    tmux_start('tiny', 40, 10, "spec $SPEC --step", TMPDIR => private_tmp());
    my $t = wait_for('tiny', qr/too small/i, 'the too-small message');
    ok($t, 'tiny: a 40x10 terminal shows the too-small message');
    is(scalar(grep { /\S/ } split /\n/, $t // ''), 1, 'tiny: on one line, and nothing else');
    tmux('resize-window', '-t', 'tiny', '-x', 100, '-y', 30);
    ok(wait_for('tiny', qr/your move/, 'the dashboard'), 'tiny: enlarged, the dashboard comes back');
    tmux('send-keys', '-t', 'tiny', 'q');
    like(wait_for('tiny', qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'tiny: q exits 0');

    tmux_start('ascii', 100, 30, "spec $SPEC --step", TMPDIR => private_tmp(), NO_COLOR => 1,
          LANG => 'C', LC_ALL => 'C');
    ok(wait_for('ascii', qr/your move/, 'step mode'), 'ASCII, NO_COLOR: the dashboard is up');
    tmux('send-keys', '-t', 'ascii', '>', '1', '1', '2', '2');
    $t = wait_for('ascii', qr/~ two_pens UPDATE/, 'the wait');
    ok($t, 'ASCII, NO_COLOR: the wait is shown with its ASCII glyph');
    unlike($t // '', qr/⏳/, 'ASCII: no UTF-8 glyph');
    tmux('send-keys', '-t', 'ascii', 'q');
    like(wait_for('ascii', qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'ASCII: q exits 0');
}

done_testing();
