#!/usr/bin/env perl
# docs.t: what the course and the docs say is true of the binary.
#
#  - Every racelab command shown in README.md, lessons/*.md and docs/*.md (a line
#    in a fenced code block starting "racelab " or "$ racelab ", and an inline
#    `racelab ...` span), and in the man page's EXAMPLES, runs with --no-ui and
#    ends with its documented exit status.  What a command must print is kept out
#    of the reader's sight, in a hidden check (app/lesson.h has the format):
#        <!-- check
#        racelab product -s naive --schedule "t1.read t2.read t1.write t2.write"
#            "number_sold = 1" !"<waiting"
#        -->
#    (exit N: the status, default 0; "text": stdout contains it; !"text": it does
#    not; /re/: it matches).  A check whose command the file does not show fails,
#    and so does an expectation left on a line the reader copies.  Commands
#    without -n get a small one, so the suite stays quick, unless their check
#    names an outcome.  -b postgres (and -b sqlite,postgres) runs against
#    $RACELAB_TEST_PG.
#  - Every lesson's demo, run as `racelab lesson N --no-ui` (stdin is no
#    terminal, so it does not pause), ends with the exit status its
#    <!-- expect: --> line states, prints every outcome it names, shows its text
#    as written (no comment, each answer whole) and never waits for a key.
#  - Each lesson has the parts the course promises, every exercise an answer, and
#    its SQL is the SQL the demos run (demos/*.c).
#  - docs/racelab.1 is clean under mandoc -Tlint, and its options are --help's.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use Text::ParseWords qw(shellwords);
use File::Temp qw(tempdir);
use Encode qw(decode);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $ROOT = "$FindBin::Bin/..";
my $PG = $ENV{RACELAB_TEST_PG};
my $CI = ($ENV{CI} // '') eq 'true';
my $tmp = private_tmp();
my $spec_dir = tempdir(CLEANUP => 1);   # specs the docs export, then run (outside
                                        # $tmp: run_once keys keep their names)

sub slurp_file {
    my ($f) = @_;
    open my $fh, '<:encoding(UTF-8)', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

# ---- what a comment after a command expects --------------------------------

# "exit 64", "\"text\"", "!\"text\"", "/re/" in COMMENT.
sub expectations {
    my ($comment) = @_;
    my %e = (status => 0, has => [], hasnt => [], match => [], outcome => 0);
    $e{status} = $1 if $comment =~ /\bexit\s+(\d+)/;
    while ($comment =~ /(!?)"((?:[^"\\]|\\.)*)"/g) {
        my ($neg, $text) = ($1, $2);
        $text =~ s/\\(.)/$1/g;
        push @{ $neg ? $e{hasnt} : $e{has} }, $text;
        $e{outcome} = 1;
    }
    (my $unquoted = $comment) =~ s/"(?:[^"\\]|\\.)*"//g;
    for my $re ($unquoted =~ m{(?<![!"])/((?:[^/\\]|\\.)+)/}g) {
        push @{ $e{match} }, $re;
        $e{outcome} = 1;
    }
    return \%e;
}

# A command as the checks key it: blanks collapsed, none at the ends.
sub key_of { my ($c) = @_; $c =~ s/\s+/ /g; $c =~ s/^ | $//g; return $c }

# The hidden checks in TEXT: { command key => its expectations, as text }.
sub hidden_checks {
    my ($text) = @_;
    my %checks;
    while ($text =~ /^<!--\s*check\s*\n(.*?)^\s*-->\s*$/msg) {
        my $cur;
        for my $line (split /\n/, $1) {
            if ($line =~ /^racelab\b/) { $cur = key_of($line); $checks{$cur} //= '' }
            elsif ($line =~ /\S/ && defined $cur) { $checks{$cur} .= " $line" }
        }
    }
    return \%checks;
}

# TEXT as racelab lesson N shows it: no HTML comment; "<details><summary>S
# </summary>" as "S:"; no "</details>".
sub rendered {
    my ($text) = @_;
    my (@out, $in);
    my $nl = $text =~ s/\n\z//;
    for my $line (split /\n/, $text, -1) {
        if ($in) { $in = 0 if $line =~ /-->/; next }
        if ($line =~ /^\s*<!--/) { $in = $line !~ /-->/; next }
        if ($line =~ m{^(\s*)<details><summary>(.*?)</summary>}) { push @out, "$1$2:"; next }
        next if $line =~ m{^\s*</details>};
        push @out, $line;
    }
    return join("\n", @out) . ($nl && @out ? "\n" : '');
}

# A command line and its trailing comment: the first " #" outside quotes.
sub split_comment {
    my ($line) = @_;
    my ($q, $i) = ('', 0);
    for my $c (split //, $line) {
        if ($q) { $q = '' if $c eq $q }
        elsif ($c eq '"' || $c eq "'") { $q = $c }
        elsif ($c eq '#' && $i > 0 && substr($line, $i - 1, 1) =~ /\s/) {
            return (substr($line, 0, $i), substr($line, $i + 1));
        }
        $i++;
    }
    return ($line, '');
}

# ---- the commands the docs show ----------------------------------------------

# Not a command but a synopsis, a placeholder or racelab's own output: "racelab
# 0.1.0: product: ...", the dashboard's "racelab product: ...", "racelab [product|coupon] [-b ...]", "racelab lesson N".
sub not_a_command {
    my ($cmd) = @_;
    (my $bare = $cmd) =~ s/"[^"]*"|'[^']*'//g;             # quoted values are fine
    return $bare =~ /^racelab \S+:/ || $bare =~ /[\[\]|…]|\.\.\./
        || $bare =~ /\b(?:N|SCENARIO|OPTIONS|CONNINFO|DIR|WHERE|MS|LIST|SPEC|THREADS|OPS|CODE|FILE|ANOMALY|LEVEL)\b/;
}

# [file, line number, command text, comment] for every command in a Markdown file.
sub md_commands {
    my ($file) = @_;
    my @out;
    my ($fence, $n, $pending, $pending_line) = (0, 0, undef, 0);
    for my $line (split /\n/, slurp_file($file)) {
        $n++;
        if ($line =~ /^\s*(```|~~~)/) { $fence = !$fence; next }
        if ($fence) {
            if (defined $pending) {                 # a continued line
                $pending .= ' ' . $line;
            } elsif ($line =~ m{^\s*(?:\$\s+)?(?:build/)?(racelab(?:\s.*)?)$}) {
                ($pending, $pending_line) = ($1, $n);
            } else {
                next;
            }
            if ($pending =~ s/\\\s*$//) { next }
            my ($cmd, $comment) = split_comment($pending);
            push @out, [$file, $pending_line, $cmd, $comment] unless not_a_command($cmd);
            undef $pending;
        } else {
            while ($line =~ /`(racelab(?:\s[^`]*)?)`/g) {
                my $cmd = $1;
                push @out, [$file, $n, $cmd, ''] unless not_a_command($cmd);
            }
        }
    }
    return @out;
}

# The man page's EXAMPLES, as rendered.
sub man_commands {
    my $page = "$ROOT/docs/racelab.1";
    my $text = `mandoc -Tascii '$page' 2>/dev/null | col -b`;
    return () unless $text;
    my ($examples) = $text =~ /^EXAMPLES\n(.*?)^\S/ms;
    my @out;
    my $pending;
    for my $line (split /\n/, $examples // '') {
        if (defined $pending) { $pending .= ' ' . $line }
        elsif ($line =~ /^\s*\$\s+(racelab(?:\s.*)?)$/) { $pending = $1 }
        else { next }
        next if $pending =~ s/\\\s*$//;
        push @out, [$page, 0, $pending, ''];
        undef $pending;
    }
    return @out;
}

my @md = grep { -f } ("$ROOT/README.md", glob("$ROOT/lessons/*.md"), glob("$ROOT/docs/*.md"));
my @commands = ((map { md_commands($_) } @md), man_commands());
ok(@commands >= 20, 'the docs show racelab commands (' . scalar(@commands) . ' found)');

# Each file's hidden checks, and which of them a shown command uses.
my (%checks, %used);
$checks{$_} = hidden_checks(slurp_file($_)) for @md;
for my $file (@md) {
    (my $where = $file) =~ s{^\Q$ROOT\E/}{};
    my %shown = map { key_of($_->[2]) => 1 } grep { $_->[0] eq $file } @commands;
    my @stale = grep { !$shown{$_} } sort keys %{ $checks{$file} };
    is_deeply(\@stale, [], "$where: every hidden check names a command it shows")
        or diag("keys are the command exactly as shown, blanks collapsed");
    my @visible = map { "line $_->[1]: $_->[2]#$_->[3]" }
                  grep { $_->[0] eq $file && $_->[3] =~ /(?:^|\s)!?"|\bexit\s+\d/ } @commands;
    is_deeply(\@visible, [], "$where: no expectation on a line the reader copies")
        or diag('move it into a hidden <!-- check --> block (app/lesson.h)');
}

# The arguments to run for a documented command, or (undef, why) to skip it.
sub prepare {
    my ($cmd, $e) = @_;
    my @w = shellwords($cmd);
    shift @w;                                   # "racelab"
    return prepare_room(@w) if @w && $w[0] eq 'room';
    my $is = sub { my $re = shift; scalar grep { /$re/ } @w };
    my $pg = 0;
    for my $i (0 .. $#w) {
        $pg = 1 if ($w[$i] eq '-b' || $w[$i] eq '--backend')
                   && ($w[$i + 1] // '') =~ /^(?:postgres|sqlite,postgres|postgres,sqlite)$/;
        $pg = 1 if $w[$i] eq '--backend=postgres';
    }
    if ($pg) {
        return (undef, 'PostgreSQL: RACELAB_TEST_PG is unset') unless $PG;
        my @v;
        for (my $i = 0; $i < @w; $i++) {
            if ($w[$i] eq '-d' || $w[$i] eq '--db') { $i++; next }
            next if $w[$i] =~ /^--db=/;
            push @v, $w[$i];
        }
        @w = (@v, '-d', $PG);
    } else {
        for my $i (0 .. $#w - 1) {               # a SQLite directory: a private one
            $w[$i + 1] = tempdir(DIR => $tmp) if $w[$i] eq '-d' || $w[$i] eq '--db';
        }
    }
    for my $i (0 .. $#w - 1) {                   # recordings and pictures: ours
        if ($w[$i] eq '--record' || $w[$i] eq '--svg') {
            (my $base = $w[$i + 1]) =~ s{.*/}{};
            $w[$i + 1] = tempdir(DIR => $tmp) . "/$base";
        }
    }
    # An exported spec goes to our directory, and a later "racelab spec" of the
    # same name reads it from there (the docs show the two in that order).
    for my $i (0 .. $#w - 1) {
        next unless $w[$i] eq '--export-spec' && $w[$i + 1] ne '-';
        (my $base = $w[$i + 1]) =~ s{.*/}{};
        $w[$i + 1] = "$spec_dir/$base";
    }
    if (@w > 1 && $w[0] eq 'spec' && $w[1] !~ m{/}) {
        $w[1] = "$spec_dir/$w[1]" if -e "$spec_dir/$w[1]";
    }
    # The dashboard's own commands run on a terminal: see on_terminal below.
    # A lesson there prints straight through (lesson.t tests its pauses).
    push @w, '--no-pause' if $is->(qr/^lesson$/) && $is->(qr/^--(?:present|step)$/);
    return (\@w, undef, 'terminal') if $is->(qr/^--(?:present|step)$/) && !$e->{status};
    my $run = !$is->(qr/^(?:lessons?|-h|--help|-V|--version)$/);
    my $listed = $is->(qr/^--schedule$/) && !$is->(qr/^random$/);
    if ($run && !$listed && !$e->{outcome} && !$is->(qr/^(?:-n|--ops)$/)) {
        push @w, '-n', ($is->(qr/^coupon$/) ? 5 : 50);   # quick, whatever it shows
    }
    push @w, '--no-ui' unless $is->(qr/^--json$/);
    return (\@w);
}

# A dashboard-only command (--present, --step) on a real terminal: tmux, 100x30.
# It must come up (its key line on screen), and q must end it with status 0.
my $tmux_sock = "$tmp/tmux";
END { local $?; system("tmux -S '$tmux_sock' kill-server 2>/dev/null") if $tmux_sock && -S $tmux_sock }
sub on_terminal {
    my ($args) = @_;
    my $cmd = join ' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } $RACELAB, @$args;
    my $name = 'docs' . int(rand(1e9));
    my $pane = sub { scalar `tmux -S '$tmux_sock' capture-pane -p -t $name 2>/dev/null` };
    system('tmux', '-S', $tmux_sock, '-f', '/dev/null', 'new-session', '-d', '-s', $name,
           '-x', 100, '-y', 30, '-e', 'LANG=C.UTF-8', '-e', "TMPDIR=$tmp",
           "$cmd; echo racelab-exit=\$?; sleep 600") == 0 or return (127, '', 'tmux');
    my $wait = sub {
        my ($re) = @_;
        for (1 .. 600) { my $t = $pane->(); return $t if $t =~ $re; select(undef, undef, undef, 0.05) }
        return undef;
    };
    my $up = $wait->(qr/space\/n next step|your move/);
    system('tmux', '-S', $tmux_sock, 'send-keys', '-t', $name, 'q');
    my $t = $wait->(qr/racelab-exit=\d+/) // '';
    system('tmux', '-S', $tmux_sock, 'kill-session', '-t', $name);
    my ($status) = $t =~ /racelab-exit=(\d+)/;
    return ($up ? $status // 124 : 124, $t, $up ? '' : 'the dashboard did not come up');
}

# One free port on 127.0.0.1 for every room host the docs show (so that the
# same command shown twice runs once).
my $room_port;
sub room_port {
    require IO::Socket::INET;
    for (1 .. 50) {
        last if $room_port;
        my $p = 20000 + int(rand(30000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1) or next;
        close $s;
        $room_port = $p;
    }
    return $room_port;
}

# racelab room: open and join on the test server (stdin is /dev/null: a room
# opened closes at once); host on the loopback address only, on a free port,
# whatever the docs show (stdin closed: it stops at once).
sub prepare_room {
    my @w = @_;
    my $sub = $w[1] // '';
    return (\@w) if grep { /^(?:-h|--help)$/ } @w;
    if ($sub eq 'host') {
        return (undef, 'no PostgreSQL server binaries')
            unless (() = glob('/usr/lib/postgresql/*/bin/initdb')) || $ENV{PG_BINDIR};
        my @v = ('room', 'host');
        for (my $i = 2; $i < @w; $i++) {
            if ($w[$i] =~ /^--(?:listen|port)$/) { $i++; next }
            push @v, $w[$i];
        }
        return ([@v, '--listen', '127.0.0.1', '--port', room_port()]);
    }
    return (undef, 'PostgreSQL: RACELAB_TEST_PG is unset') unless $PG;
    my @v;
    for (my $i = 0; $i < @w; $i++) {
        if ($w[$i] eq '-d' || $w[$i] eq '--db') { $i++; next }
        push @v, $w[$i];
    }
    return ([@v, '-d', $PG, '--no-ui']);
}

# A command shown twice (in a lesson's "Run it" and in its exercise, say) runs once.
my %ran;
sub run_once {
    my ($args) = @_;
    my $key = join "\0", @$args;
    $key =~ s/\Q$tmp\E\/[^\0]+/DIR/g;      # fresh SQLite directories differ by name only
    $ran{$key} //= do {
        my ($status, $out, $err) = racelab($args, TMPDIR => $tmp);
        [$status, decode('UTF-8', $out), $err];
    };
    return @{ $ran{$key} };
}

for my $c (@commands) {
    my ($file, $line, $cmd, $comment) = @$c;
    (my $where = $file) =~ s{^\Q$ROOT\E/}{};
    $where .= ":$line" if $line;
    my $e = expectations(($checks{$file} // {})->{key_of($cmd)} // '');
    my ($args, $why, $terminal) = prepare($cmd, $e);
    $cmd =~ s/\s+$//;
    SKIP: {
        if (!$args) {
            fail("$where: $cmd: $why (CI=true)") if $CI;
            skip("$where: $why", 1);
        }
        my ($status, $out, $err) = $terminal ? on_terminal($args) : run_once($args);
        my @bad;
        push @bad, "exit $status, documented $e->{status}" if $status != $e->{status};
        push @bad, "no \"$_\" in the output" for grep { index($out, $_) < 0 } @{ $e->{has} };
        push @bad, "\"$_\" in the output" for grep { index($out, $_) >= 0 } @{ $e->{hasnt} };
        push @bad, "no match for /$_/" for grep { $out !~ /$_/ } @{ $e->{match} };
        ok(!@bad, "$where: $cmd") or diag(join('; ', @bad) . "\nran: racelab @$args\n"
            . "stderr: $err\nstdout: $out");
    }
}

# ---- the lessons -------------------------------------------------------------

my @lessons = sort glob("$ROOT/lessons/[0-9]*-*.md");
ok(@lessons >= 8, 'at least eight lessons (' . scalar(@lessons) . ')');

my ($ls_status, $listing) = racelab(['lessons']);
$listing = decode('UTF-8', $listing);
is($ls_status, 0, 'racelab lessons exits 0');

my %demo_sql = demo_sql();

for my $file (@lessons) {
    my ($num) = $file =~ m{/0*(\d+)-[^/]*\.md$};
    my $text = slurp_file($file);
    my ($decl) = $text =~ /^<!--\s*racelab:\s*(.*?)\s*-->\s*$/m;
    my ($expect) = $text =~ /^<!--\s*expect:\s*(.*?)\s*-->\s*$/m;
    my ($title) = $text =~ /^# (.*)$/m;
    (my $short = $title // '') =~ s/^Lesson \d+[:.]?\s*//;

    ok(defined $decl, "lesson $num declares its demo") or next;
    ok(defined $expect, "lesson $num states its expected outcome") or next;
    like($listing, qr/^\s*\Q$num\E  \Q$short\E$/m, "racelab lessons lists lesson $num: $short");

    # The parts every lesson has.
    for my $part ('The Django code', 'The SQL racelab runs', 'Predict first', 'Run it',
                  'What to look at', 'Check', 'Exercise|The challenges') {
        like($text, qr/^## (?:$part)/m, "lesson $num has a section '$part'");
    }
    like($text, qr/^\*\*Goal:\*\*/m, "lesson $num states its goal");
    like($text, qr/<details><summary>Answer/, "lesson $num gives the check question's answer");
    my ($exercise) = $text =~ /^## (?:Exercise|The challenges)[^\n]*\n(.*?)(?=^## |\z)/ms;
    my $items = () = ($exercise // '') =~ /^\d+\. /mg;
    my $answers = () = ($exercise // '') =~ /^\s*<details><summary>/mg;
    ok($items > 0 && $answers >= $items,
       "lesson $num: every exercise has a hidden answer ($items exercises, $answers answers)")
        unless $text =~ /^## Answers$/m;      # lesson 10: the answers have a section
    unlike($text, qr/^```python\n(?:(?!```).)*automic/ms,
           "lesson $num: its Django code spells transaction.atomic");
    like($text, qr/^<!-- run -->$/m, "lesson $num marks where its demo runs");

    # Its SQL is the demos' SQL.
    while ($text =~ /`((?:SELECT|UPDATE|INSERT|DELETE)\b[^`]*)`/g) {
        my $sql = $1;
        next if $sql =~ /…|\.\.\./ || $sql !~ /\b(?:products|coupons|redemptions|seats)\b/;
        ok(sql_known($sql, \%demo_sql), "lesson $num: `$sql` is SQL the demos run")
            or diag('not in demos/*.c');
    }

    # The demo, run the way a learner runs it.
    my $e = expectations($expect);
    my ($status, $out, $err) = racelab(['lesson', $num, '--no-ui'], TMPDIR => $tmp);
    $out = decode('UTF-8', $out);
    is($status, $e->{status}, "racelab lesson $num exits $e->{status}") or diag($err);
    my ($shown, $demo, $said) = $out =~ /\A(.*?)^==> racelab (.*?)$(.*?)^==> exit status (\d+)/ms
        ? ($1, $2, $3) : ('', '', '');
    is("racelab $demo", "racelab $decl --no-ui", "lesson $num shows the command it runs");
    like($out, qr/^==> exit status $status\b/m, "lesson $num says how its demo ended");
    for my $want (@{ $e->{has} }) {
        ok(index($said, $want) >= 0, "lesson $num: the demo shows \"$want\"");
    }
    for my $want (@{ $e->{hasnt} }) {
        ok(index($said, $want) < 0, "lesson $num: the demo does not show \"$want\"");
    }
    for my $re (@{ $e->{match} }) {
        like($said, qr/$re/, "lesson $num: the demo matches /$re/");
    }
    my ($before, $after) = $text =~ /\A(.*?)^<!-- run -->\n(.*)\z/ms;
    $before =~ s/^<!--\s*(?:racelab:|expect:).*-->\n//mg;
    is($shown, rendered($before), "lesson $num: the text before the demo is shown first, as written");
    my ($tail) = $out =~ /^==> exit status \d+[^\n]*\n(.*)\z/ms;
    is($tail // '', rendered($after),
       "lesson $num: after the demo, the rest of its text, every answer whole");
    unlike($out, qr/any key|<!--|<details>/,
           "lesson $num: off a terminal it shows no prompt, no comment, no HTML");

    # And on PostgreSQL, when there is one: the same exit status.
    SKIP: {
        skip('PostgreSQL: RACELAB_TEST_PG is unset', 1) unless $PG;
        my ($pst, undef, $perr) = racelab(['lesson', $num, '--no-ui', '-b', 'postgres',
                                          '-d', $PG], TMPDIR => $tmp);
        is($pst, $e->{status}, "racelab lesson $num -b postgres exits $e->{status}")
            or diag($perr);
    }
}

{
    my ($last) = $lessons[-1] =~ m{/0*(\d+)-[^/]*\.md$};     # the highest, gaps or not
    my ($status, undef, $err) = racelab(['lesson', 99999, '--no-ui']);
    is($status, 64, 'a lesson that does not exist is a usage error (64)');
    like($err, qr/no lesson 99999: the lessons are numbered 1 to $last/,
         'and the message names the range');
}

# Every SQL string in demos/*.c (adjacent literals joined), plus the backends'
# BEGIN and COMMIT.
sub demo_sql {
    my %sql = map { $_ => 1 } ('BEGIN', 'BEGIN IMMEDIATE', 'COMMIT');
    for my $f (glob("$ROOT/demos/*.c")) {
        my $src = slurp_file($f);
        $src =~ s{/\*.*?\*/}{}gs;
        while ($src =~ /((?:"(?:[^"\\]|\\.)*"\s*)+)/g) {
            my $lit = join '', $1 =~ /"((?:[^"\\]|\\.)*)"/g;
            $sql{$lit} = 1 if $lit =~ /^(?:SELECT|UPDATE|INSERT|DELETE)\b/;
        }
    }
    return %sql;
}

# SQL as a lesson shows it: a demo's statement, perhaps with values written in for
# its $1, $2 (as the trace shows them), perhaps without SQLite's missing FOR UPDATE.
sub sql_known {
    my ($sql, $known) = @_;
    for my $k (keys %$known) {
        my $re = join '', map { /^\$\d+$/ ? q{(?:\$\d+|'[^']*'|-?\d+)} : quotemeta }
                          split /(\$\d+)/, $k;
        return 1 if $sql =~ /^$re$/;
    }
    return 0;
}

# ---- the man page --------------------------------------------------------------

my $man = "$ROOT/docs/racelab.1";
SKIP: {
    if (system('sh', '-c', 'command -v mandoc >/dev/null 2>&1') != 0) {
        fail('mandoc is not installed (CI=true)') if $CI;
        skip('mandoc is not installed', 1);
    }
    my $lint = `mandoc -Tlint '$man' 2>&1`;
    is($lint, '', 'mandoc -Tlint docs/racelab.1 is clean') or diag($lint);
}

my ($hs, $help) = racelab(['--help']);
is($hs, 0, 'racelab --help exits 0');
my (%in_help, %in_man);
for (split /\n/, $help) {
    next unless /^\s+(?:-(\w), )?--([\w-]+)/;
    $in_help{"-$1"} = 1 if defined $1;
    $in_help{"--$2"} = 1;
}
for (split /\n/, slurp_file($man)) {
    next unless /^\.It Fl (.*)$/;
    my $item = $1;
    $in_man{"-$1"} = 1 if $item =~ /^(\w)\b/;
    $in_man{"--$1"} = 1 for $item =~ /\\-([\w-]+)/g;
}
ok(keys %in_help >= 10, 'options found in --help: ' . join(' ', sort keys %in_help));
is_deeply([grep { !$in_man{$_} } sort keys %in_help], [],
          'every option in --help is in the man page');
is_deeply([grep { !$in_help{$_} } sort keys %in_man], [],
          'every option in the man page is in --help');

done_testing();
