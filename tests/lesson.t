#!/usr/bin/env perl
# lesson.t: racelab lesson N on a real terminal (tmux, on a private socket), as a
# learner meets it.  It waits for a key before the demo (nothing of the demo is
# on the screen yet), before "The answer" (the demo's result is, the answer is
# not) and before each hidden answer; any key goes on, q stops the lesson with
# exit 0, Ctrl-C with 130, and the terminal is left as it was (icanon, echo).
# --no-pause prints straight through, on a terminal too; --no-pause outside a
# lesson is a usage error.  (Off a terminal, docs.t checks every lesson runs
# through without a prompt.)  Every wait polls the pane with a deadline.
use strict;
use warnings;
use utf8;
use open qw(:std :encoding(UTF-8));
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Time::HiRes qw(sleep time);

{
    my ($st, undef, $err) = racelab(['product', '--no-pause']);
    is($st, 64, '--no-pause outside a lesson is a usage error (64)');
    like($err, qr/--no-pause is for lessons/, 'and the message says what it is for');
}

plan skip_all => 'tmux is not installed' if system('tmux -V >/dev/null 2>&1') != 0;

my $SOCK = private_tmp() . '/tmux';
my $TIMEOUT = $ENV{RACELAB_TMUX_TIMEOUT} // 30;
END { local $?; system("tmux -S '$SOCK' kill-server 2>/dev/null") if $SOCK && -S $SOCK; }

sub tmux { return system('tmux', '-S', $SOCK, '-f', '/dev/null', @_) == 0 }
# The whole pane, with its scrollback.
sub screen { my ($s) = @_; return scalar `tmux -S '$SOCK' capture-pane -p -S -500 -t '$s' 2>/dev/null` }

sub start {
    my ($name, $args) = @_;
    my $cmd = "$RACELAB $args; echo racelab-exit=\$?;"
        . " echo tty: \$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo);"
        . " sleep 600";
    tmux('new-session', '-d', '-s', $name, '-x', 100, '-y', 40,
         '-e', 'LANG=C.UTF-8', '-e', 'LC_ALL=C.UTF-8', $cmd)
        or BAIL_OUT('tmux cannot start a session');
}

sub wait_for {
    my ($name, $re, $what) = @_;
    my $end = time + $TIMEOUT;
    my $text = '';
    while (time < $end) {
        $text = screen($name);
        return $text if $text =~ $re;
        sleep 0.05;
    }
    diag("timed out waiting for $what; the pane shows:\n$text");
    return '';
}

sub key { my ($name, @keys) = @_; tmux('send-keys', '-t', $name, @keys) }

# Lesson 2, key by key.
start('l2', 'lesson 2');
my $s = wait_for('l2', qr/-- run it \(any key; q stops the lesson\) --/, 'the pause before the demo');
like($s, qr/## Predict first/, 'lesson 2 shows its question first');
unlike($s, qr/^step t1\.read/m, 'and has not run the demo yet');
unlike($s, qr/Both reads return 0/, 'nor shown the answer');

key('l2', 'Enter');
$s = wait_for('l2', qr/-- the answer \(any key/, 'the pause before "The answer"');
like($s, qr/^result: number_sold = 1, expected 2/m, 'a key runs the demo: its trace is on the screen');
unlike($s, qr/Both reads return 0/, 'the answer waits for a key');
unlike($s, qr/-- run it/, 'the pause line went when the key came');

key('l2', 'Space');
$s = wait_for('l2', qr/-- Answer \(any key/, "the pause before the check's answer");
like($s, qr/Both reads return 0, both writes store 1/, 'a key shows "The answer"');
like($s, qr/How many of the six lose a sale\?/, 'then the check question');
unlike($s, qr/Four\. Only the two orders/, "the check's answer waits for a key");

key('l2', 'x');
$s = wait_for('l2', qr/Four\. Only the two orders/, "the check's answer");
like($s, qr/^Answer:$/m, '<details><summary>Answer</summary> is shown as "Answer:"');
unlike($s, qr/<details>|<!--/, 'no HTML and no hidden check reaches the screen');

key('l2', 'q');
$s = wait_for('l2', qr/^tty: \S/m, 'the lesson to stop');
like($s, qr/racelab-exit=0/, 'q at a pause stops the lesson with exit 0');
unlike($s, qr/Both read before either writes/, 'and shows nothing after it');
like($s, qr/tty: icanon echo/, 'the terminal is back in its modes (icanon, echo)');

# Ctrl-C at a pause.
start('int', 'lesson 7');
wait_for('int', qr/-- run it \(any key/, 'lesson 7 to pause');
key('int', 'C-c');
$s = wait_for('int', qr/^tty: \S/m, 'Ctrl-C to stop the lesson');
like($s, qr/racelab-exit=130/, 'Ctrl-C at a pause stops the lesson with 130');
unlike($s, qr/^step t1\.check/m, 'without running the demo');
like($s, qr/tty: icanon echo/, 'and restores the terminal');

# A dashboard lesson: a key opens the dashboard, q closes it, and the lesson
# goes on to its next pause, on a terminal that reads keys again.
start('d3', 'lesson 3');
wait_for('d3', qr/-- run it on the dashboard/, 'lesson 3 to pause before the dashboard');
key('d3', 'Enter');
$s = wait_for('d3', qr/\x{250c}\x{2500} naive/, 'the dashboard');
ok($s, 'a key opens the dashboard');
key('d3', 'q');
$s = wait_for('d3', qr/-- the answer \(any key/, 'the pause after the dashboard');
like($s, qr/^==> exit status 0/m, 'after the dashboard the lesson says how the demo ended');
key('d3', 'q');
$s = wait_for('d3', qr/^tty: \S/m, 'lesson 3 to stop');
like($s, qr/racelab-exit=0/, 'and q at that pause ends it with exit 0');
like($s, qr/tty: icanon echo/, 'the terminal restored after the dashboard and the pause');

# A dashboard lesson says where the demo will run; q there runs nothing.
start('dash', 'lesson 3');
$s = wait_for('dash', qr/-- run it on the dashboard/, 'lesson 3 to pause before the dashboard');
ok($s, 'a dashboard lesson says the demo runs on the dashboard');
key('dash', 'q');
$s = wait_for('dash', qr/racelab-exit=\d+/, 'q before the dashboard');
like($s, qr/racelab-exit=0/, 'q before the demo ends the lesson with exit 0');

# --no-pause: straight through, on a terminal too.
start('np', 'lesson 2 --no-pause');
$s = wait_for('np', qr/racelab-exit=\d+/, 'lesson 2 --no-pause to finish');
like($s, qr/racelab-exit=0/, '--no-pause runs the whole lesson and exits 0');
unlike($s, qr/any key/, 'without a single prompt');
like($s, qr/Both read before either writes/, 'down to the last answer');

done_testing();
