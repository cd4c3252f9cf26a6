#!/usr/bin/env perl
# faults-tty.t: the dashboard under signals, in a real terminal (tmux, private
# socket) with an interactive shell, as a learner would run it.  SIGINT, SIGTERM
# and SIGHUP end the run with exit 130 and "interrupted"; the terminal is restored
# (alternate screen closed, cursor shown, canonical mode with echo), no database
# is left behind, and the report after the dashboard counts exactly (each safe
# strategy: observed = committed).  Ctrl-Z stops the job with the terminal given
# back to the shell; fg brings the dashboard back, redrawn, and the run goes on.
# A storm of resizes (tiny to large, hundreds in a row) leaves a dashboard that
# draws at the final size and exits 0 on q.
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

# An interactive shell (job control, as a learner has) in a WxH terminal; racelab
# ARGS is typed into it, followed by what prints its exit status.
sub start {
    my ($name, $args, %env) = @_;
    my $env = join ' ', map { "$_='$env{$_}'" } sort keys %env;
    tmux('new-session', '-d', '-s', $name, '-x', 132, '-y', 40, '-e', 'LANG=C.UTF-8',
         '-e', 'LC_ALL=C.UTF-8', 'bash --norc --noprofile -i')
        or BAIL_OUT('tmux cannot start a session');
    wait_for($name, qr/^\S*[\$#]\s*$/m, 'the shell prompt') or BAIL_OUT('no shell prompt');
    tmux('send-keys', '-t', $name, "env $env $RACELAB $args; echo racelab-exit=\$?", 'Enter');
}

sub racelab_pid {
    my ($name) = @_;
    my $shell = pane_var($name, 'pane_pid');
    my $end = time + $TMUX_TIMEOUT;
    while (time < $end) {
        my ($pid) = grep { `cat /proc/$_/cmdline 2>/dev/null` =~ /^\Q$RACELAB\E\0/ }
                    split ' ', `ps -o pid= --ppid $shell`;
        return $pid if $pid;
        sleep 0.05;
    }
    return undef;
}

sub panels {
    my ($t) = @_;
    return $t =~ /┌─ naive/ && $t =~ /┌─ atomic/ && $t =~ /┌─ locked/ && $t =~ /running \d/;
}

# Is the terminal the shell's again?  Types a probe of the tty modes.
sub restored {
    my ($name, $label) = @_;
    is(pane_var($name, 'alternate_on'), '0', "$label: the alternate screen is closed");
    is(pane_var($name, 'cursor_flag'), '1', "$label: the cursor is visible");
    tmux('send-keys', '-t', $name, q{echo tty: $(stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo)}, 'Enter');
    ok(wait_for($name, qr/^tty: icanon echo$/m, 'the tty modes'),
       "$label: the tty is in canonical mode with echo");
}

# The report after the dashboard: each safe strategy's observed = expected.
sub counts_exact {
    my ($text, $label) = @_;
    my %row = map { /^(naive|atomic|locked)\s+(\d+)\s+(\d+)\s/ ? ($1 => [$2, $3]) : () }
              split /\n/, $text;
    ok(keys %row == 3, "$label: the report is printed") or diag($text);
    for my $s (qw(atomic locked)) {
        my ($expected, $observed) = @{ $row{$s} // [-1, -2] };
        ok($expected == $observed, "$label: $s: the database holds exactly what was"
           . " committed ($observed of $expected)");
    }
}

for my $b (backends()) {
    my ($backend, $where) = @$b;
    my $db = "-b $backend" . (defined $where ? " -d '$where'" : '');
    my $schemas = sub {
        return 0 unless defined $where;
        my $n = `psql -XAtq '$where' -c "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%'"`;
        chomp $n;
        return $n;
    };
    my $before = $schemas->();

    # --- SIGINT, SIGTERM, SIGHUP -------------------------------------------------
    for my $sig (qw(INT TERM HUP)) {
        my $s = "$sig-$backend";
        my $tmp = private_tmp();
        start($s, "$db -t 2 -n 100000", TMPDIR => $tmp, RACELAB_PACE_MS => 5);
        ok(wait_for($s, \&panels, 'the panels'), "$s: the dashboard is up");
        my $pid = racelab_pid($s);
        ok($pid && kill($sig, $pid), "$s: SIG$sig sent to racelab");
        my $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
        like($t // '', qr/racelab-exit=130/, "$s: exit 130");
        like($t // '', qr/^racelab: interrupted; the databases were cleaned up$/m,
             "$s: says it was interrupted, in one line");
        counts_exact($t // '', $s);
        restored($s, $s);
        opendir my $dh, $tmp or die;
        is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], "$s: no database file is left");
        is($schemas->(), $before, "$s: no schema is left") if defined $where;
        tmux('kill-session', '-t', $s);
    }

    # --- Ctrl-Z, then fg ----------------------------------------------------------
    {
        my $s = "tstp-$backend";
        my $tmp = private_tmp();
        start($s, "$db -t 2 -n 100000", TMPDIR => $tmp, RACELAB_PACE_MS => 5);
        ok(wait_for($s, \&panels, 'the panels'), "$s: the dashboard is up");
        my $pid = racelab_pid($s);
        tmux('send-keys', '-t', $s, 'C-z');
        ok(wait_for($s, qr/^\[1\]\+\s+Stopped/m, 'the job to stop'), "$s: Ctrl-Z stops the job");
        like(`ps -o stat= -p $pid`, qr/^T/, "$s: racelab is stopped");
        restored($s, "$s stopped");
        # A stopped job ends the shell's command list: fg, then print the status again.
        tmux('send-keys', '-t', $s, 'clear; fg; echo racelab-exit=$?', 'Enter');
        ok(wait_for($s, \&panels, 'the panels again'), "$s: fg brings the dashboard back, redrawn");
        is(pane_var($s, 'alternate_on'), '1', "$s: on the alternate screen again");
        my ($t1) = capture($s) =~ /running (\d+\.\d) s/;
        ok(wait_for($s, sub { my ($t2) = $_[0] =~ /running (\d+\.\d) s/;
                              defined $t1 && defined $t2 && $t2 > $t1 }, 'the clock to move'),
           "$s: the run goes on");
        # Stopped from outside (kill -TSTP), continued from outside (kill -CONT).
        kill 'TSTP', $pid;
        ok(wait_for($s, qr/Stopped/, 'the job to stop'), "$s: SIGTSTP from outside stops it too");
        restored($s, "$s kill -TSTP");
        tmux('send-keys', '-t', $s, 'clear', 'Enter');
        kill 'CONT', $pid;
        tmux('send-keys', '-t', $s, 'fg; echo racelab-exit=$?', 'Enter');
        ok(wait_for($s, \&panels, 'the panels again'), "$s: and comes back after SIGCONT and fg");
        tmux('send-keys', '-t', $s, 'q');
        my $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
        like($t // '', qr/racelab-exit=0/, "$s: q exits 0 after a stop and a resume");
        counts_exact($t // '', $s);
        restored($s, "$s q");
        opendir my $dh, $tmp or die;
        is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], "$s: no database file is left");
        is($schemas->(), $before, "$s: no schema is left") if defined $where;
        tmux('kill-session', '-t', $s);
    }
}

# --- a resize storm -----------------------------------------------------------------
{
    my $s = 'storm';
    start($s, '-t 2 -n 100000', TMPDIR => private_tmp(), RACELAB_PACE_MS => 5);
    ok(wait_for($s, \&panels, 'the panels'), 'storm: the dashboard is up');
    my @sizes = ([20, 5], [200, 60], [1, 1], [80, 24], [133, 41], [40, 10], [300, 100],
                 [60, 8], [10, 40], [132, 40]);
    my $n = 0;
    for my $i (1 .. 30) {
        for my $wh (@sizes) {
            tmux('resize-window', '-t', $s, '-x', $wh->[0], '-y', $wh->[1]);
            $n++;
        }
    }
    ok(wait_for($s, sub { my ($top) = grep { /┌─ naive/ } split /\n/, $_[0];
                          panels($_[0]) && $top && length($top) >= 120 }, 'a full redraw'),
       "storm: after $n resizes the dashboard draws at 132x40");
    my $pid = racelab_pid($s);
    ok($pid && kill(0, $pid), 'storm: racelab is still running');
    tmux('send-keys', '-t', $s, 'q');
    my $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, 'storm: q exits 0');
    counts_exact($t // '', 'storm');
    restored($s, 'storm');
}
done_testing();
