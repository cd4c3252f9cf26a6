#!/usr/bin/env perl
# dashboard.t: the real binary on a real terminal (tmux, on a private socket): at
# 132x40 all three panels, their lanes and counts appear and the verdicts come
# from the database; q exits 0 and restores the terminal; a resize redraws; a tiny
# terminal shows a one-line message and recovers; Ctrl-C exits 130, restores the
# terminal and leaves no database behind; NO_COLOR and TERM=dumb are honoured.
# Every wait polls the pane with a deadline: no bare sleeps.
use strict;
use warnings;
use utf8;
use open qw(:std :encoding(UTF-8));
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Time::HiRes qw(sleep time);

plan skip_all => 'tmux is not installed' if system('tmux -V >/dev/null 2>&1') != 0;

# A private server on a socket in a directory of our own, removed at the end.
my $SOCK = private_tmp() . '/tmux';
my $TIMEOUT = $ENV{RACELAB_TMUX_TIMEOUT} // 30;
END { system("tmux -S '$SOCK' kill-server 2>/dev/null") if $SOCK && -S $SOCK; }

sub tmux { return system('tmux', '-S', $SOCK, '-f', '/dev/null', @_) == 0 }
sub capture {
    my ($s, @opt) = @_;
    return scalar `tmux -S '$SOCK' capture-pane -p @opt -t '$s' 2>/dev/null`;
}
sub pane_var { my ($s, $v) = @_; my $x = `tmux -S '$SOCK' display -p -t '$s' '#{$v}'`; chomp $x; $x }

# Start racelab ARGS in a new session of WxH; after it exits the pane shows its exit
# status and the terminal modes, then waits.
sub start {
    my ($name, $w, $h, $args, %env) = @_;
    my $env = join ' ', map { "$_='$env{$_}'" } sort keys %env;
    my $cmd = "env $env $RACELAB $args; echo racelab-exit=\$?;"
        . " echo tty: \$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo);"
        . " sleep 600";
    tmux('new-session', '-d', '-s', $name, '-x', $w, '-y', $h,
         '-e', 'LANG=C.UTF-8', '-e', 'LC_ALL=C.UTF-8', $cmd)
        or BAIL_OUT("tmux cannot start a session");
}

# Poll the pane until CHECK (a regex or a sub on the text) holds; returns the text.
sub wait_for {
    my ($name, $check, $what) = @_;
    my $end = time + $TIMEOUT;
    my $text = '';
    while (time < $end) {
        $text = capture($name);
        return $text if ref $check eq 'CODE' ? $check->($text) : $text =~ $check;
        sleep 0.05;
    }
    diag("timed out waiting for $what; the pane shows:\n$text");
    return undef;
}

sub panels_and_lanes {
    my ($t) = @_;
    return $t =~ /naive/ && $t =~ /atomic/ && $t =~ /locked/
        && $t =~ /T1 / && $t =~ /T2 / && ($t =~ /expected \d+ · (?:observed|got) \d+/);
}

sub restored {
    my ($name, $label) = @_;
    is(pane_var($name, 'alternate_on'), '0', "$label: the alternate screen is closed");
    like(capture($name), qr/^tty: icanon echo$/m, "$label: the tty is back in canonical mode with echo");
}

# --- 132x40: everything appears, verdicts at the end, q exits 0 (each backend) ----
for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $tmp = private_tmp();
    my $args = "-b $backend -t 2 -n 3" . (defined $where ? " -d '$where'" : '');
    my $s = "full-$backend";
    start($s, 132, 40, $args, TMPDIR => $tmp, RACELAB_PACE_MS => 40);
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
    restored($s, "$backend q");
}

# --- the keys: pause, speed, help, restart -------------------------------------
{
    start('keys', 132, 40, '-n 1000', TMPDIR => private_tmp());
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
    start('lost', 132, 40, "-b postgres -d '$where' -n 1000", TMPDIR => private_tmp());
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
    start("size$w", $w, $h, '-n 1000', TMPDIR => private_tmp());
    my $t = wait_for("size$w", \&panels_and_lanes, 'the panels');
    ok($t, "${w}x$h: three panels with their lanes and live counts");
    ok($t && !grep({ length > $w } split /\n/, $t), "${w}x$h: nothing runs past the edge");
    tmux('send-keys', '-t', "size$w", 'q');
    like(wait_for("size$w", qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         "${w}x$h: q exits 0");
}

# --- resize redraws --------------------------------------------------------------
{
    start('resize', 132, 40, '-n 1000', TMPDIR => private_tmp());
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
    start('tiny', 30, 8, '-n 1000', TMPDIR => private_tmp());
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
    start('ctrlc', 132, 40, '-n 1000', TMPDIR => $tmp);
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

# --- NO_COLOR, and a terminal that cannot position the cursor --------------------
{
    start('nocolor', 132, 40, '-n 1000', TMPDIR => private_tmp(), NO_COLOR => 1);
    ok(wait_for('nocolor', \&panels_and_lanes, 'the panels'), 'NO_COLOR: the dashboard is up');
    my $esc = capture('nocolor', '-e');
    unlike($esc, qr/\e\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|38;5;\d+|48;5;\d+)m/,
           'NO_COLOR: no colour escape in the pane');
    tmux('send-keys', '-t', 'nocolor', 'q');
    ok(wait_for('nocolor', qr/racelab-exit=0/, 'racelab to exit'), 'NO_COLOR: q exits 0');

    start('dumb', 132, 40, '-n 2 -t 2', TMPDIR => private_tmp(), TERM => 'dumb');
    my $t = wait_for('dumb', qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/strategy\s+expected\s+observed/, 'TERM=dumb: the text report, not the dashboard');
    unlike($t // '', qr/space\s+pause/, 'TERM=dumb: no dashboard was drawn');
    like($t // '', qr/racelab-exit=0/, 'TERM=dumb: exits 0');
}

done_testing();
