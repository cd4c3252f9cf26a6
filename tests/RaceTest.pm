# RaceTest.pm: what racelab's end-to-end tests share: the binary, the backends to test,
# running racelab with its JSON report parsed, and (on request: use RaceTest
# qw(:DEFAULT :tmux)) a private tmux server for the tests that drive the real
# binary on a terminal.
package RaceTest;
use strict;
use warnings;
use Exporter 'import';
use JSON::PP;
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes ();
use Encode ();

our @EXPORT = qw($RACELAB backends racelab racelab_json private_tmp wait_exit pg_query);
our @EXPORT_OK = qw(tmux capture pane_var wait_for tmux_start $TMUX_TIMEOUT);
our %EXPORT_TAGS = (tmux => \@EXPORT_OK);

our $RACELAB = $ENV{RACELAB} or BAIL_OUT('RACELAB is not set: run the tests with make test');

# The backends to test, as [name, -d value]: SQLite always; PostgreSQL when
# scripts/pg-test-server.sh (or the user) gave us a server.  With CI=true a missing
# PostgreSQL is a failure, never a silent skip.
sub backends {
    my @b = (['sqlite', undef]);
    if ($ENV{RACELAB_TEST_PG}) {
        push @b, ['postgres', $ENV{RACELAB_TEST_PG}];
    } elsif (($ENV{CI} // '') eq 'true') {
        fail('CI=true but no PostgreSQL to test against (RACELAB_TEST_PG is unset)');
    } else {
        diag('PostgreSQL tests skipped: RACELAB_TEST_PG is unset (make test sets it)');
    }
    return @b;
}

# A fresh private TMPDIR, so a test can tell whether racelab left anything behind.
sub private_tmp { return tempdir(CLEANUP => 1) }

# Run racelab with ARGS (an array ref) and optional environment; returns
# (exit status, stdout, stderr).
sub racelab {
    my ($args, %env) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{$_} = $env{$_} for keys %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/out";
        open STDERR, '>', "$dir/err";
        exec $RACELAB, @$args or exit 127;
    }
    waitpid $pid, 0;
    my $status = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    return ($status, slurp("$dir/out"), slurp("$dir/err"));
}

# Run racelab --json; returns (exit status, decoded report or undef, stderr).
sub racelab_json {
    my ($args, %env) = @_;
    my ($status, $out, $err) = racelab([@$args, '--json'], %env);
    my $report = eval { decode_json($out) };
    return ($status, $report, $err);
}

# Wait up to SECONDS for child PID to exit; returns its exit status, or undef
# after killing it if it did not exit in time.
sub wait_exit {
    my ($pid, $seconds) = @_;
    require POSIX;
    require Time::HiRes;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        return $? >> 8 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        Time::HiRes::sleep(0.02);
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return undef;
}

# Run SQL through psql on CONNINFO (unaligned, tuples only, warnings and worse
# only); its output with the trailing newline cut.
sub pg_query {
    my ($conninfo, $sql) = @_;
    open my $fh, '-|', 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', $conninfo,
        '-c', "SET client_min_messages TO warning; $sql" or die "psql: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\s+\z//;
    return $out;
}

# ---- a private tmux server ---------------------------------------------------------

# A server on a socket in a directory of our own, started by the first tmux call
# and killed at exit, so a test never touches the user's sessions.  It stays up
# between sessions (exit-empty off): a server that exits with its last session
# races the next new-session, which then fails ("server exited unexpectedly").
our $TMUX_TIMEOUT = $ENV{RACELAB_TMUX_TIMEOUT} // 30;
my $tmux_sock;
sub tmux_sock {
    return $tmux_sock if $tmux_sock;
    $tmux_sock = private_tmp() . '/tmux';
    system('tmux', '-S', $tmux_sock, '-f', '/dev/null', 'start-server', ';',
           'set-option', '-s', 'exit-empty', 'off');
    return $tmux_sock;
}
END { local $?; system("tmux -S '$tmux_sock' kill-server 2>/dev/null") if $tmux_sock && -S $tmux_sock; }

# Run tmux ARGS on the private server; true if it succeeded.
sub tmux { return system('tmux', '-S', tmux_sock(), '-f', '/dev/null', @_) == 0 }

# The text of pane S, decoded from UTF-8 (capture-pane's OPTions too, e.g. -e
# for the escapes).
sub capture {
    my ($s, @opt) = @_;
    my $sock = tmux_sock();
    return Encode::decode('UTF-8', scalar `tmux -S '$sock' capture-pane -p @opt -t '$s' 2>/dev/null`);
}

# A format variable of pane S: alternate_on, cursor_flag, pane_pid.
sub pane_var {
    my ($s, $v) = @_;
    my $sock = tmux_sock();
    my $x = `tmux -S '$sock' display -p -t '$s' '#{$v}'`;
    chomp $x;
    return $x;
}

# Poll pane NAME until CHECK (a regex or a sub on the text) holds, for at most
# $TMUX_TIMEOUT seconds; returns the text, or undef with the pane shown in a diag.
sub wait_for {
    my ($name, $check, $what) = @_;
    my $end = Time::HiRes::time() + $TMUX_TIMEOUT;
    my $text = '';
    while (Time::HiRes::time() < $end) {
        $text = capture($name);
        return $text if ref $check eq 'CODE' ? $check->($text) : $text =~ $check;
        Time::HiRes::sleep(0.05);
    }
    diag("timed out waiting for $what; the pane shows:\n$text");
    return undef;
}

# Start racelab ARGS (a shell-quoted string) in a new session NAME of WxH, with
# ENV set; after it exits the pane shows "racelab-exit=STATUS" and the terminal's
# modes ("tty: icanon echo"), then waits, so a test can read both.
sub tmux_start {
    my ($name, $w, $h, $args, %env) = @_;
    my $env = join ' ', map { "$_='$env{$_}'" } sort keys %env;
    my $cmd = "env $env $RACELAB $args; echo racelab-exit=\$?;"
        . " echo tty: \$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo);"
        . " sleep 600";
    tmux('new-session', '-d', '-s', $name, '-x', $w, '-y', $h,
         '-e', 'LANG=C.UTF-8', '-e', 'LC_ALL=C.UTF-8', $cmd)
        or BAIL_OUT("tmux cannot start a session");
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

1;
