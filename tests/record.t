#!/usr/bin/env perl
# record.t: recordings and pictures for talks (--record, --svg), checked with the
# tools people use on them.
#
#  - Golden recordings: a product and a coupon schedule played on the dashboard in
#    a 100x30 tmux pane with --record-clock virtual give the files in
#    tests/expected/ byte for byte (RACELAB_BLESS=1 writes them instead).
#  - Debian's asciinema plays each one (`asciinema cat` in a tmux pane of the same
#    size) to the very screen the dashboard showed at the end of the run, and
#    `asciinema play` runs it to the end.
#  - svg-term-cli (npm) renders each recording to SVG.
#  - Every line is JSON; the markers name every step, the anomaly, the verdict.
#  - m on the dashboard drops a marker of the speaker's own.
#  - --no-ui --record records the text report, with the same markers.
#  - --svg for every scenario and strategy: rsvg-convert renders it without a
#    word on stderr; the anomaly is drawn as an arrow, and only where there is one.
#  - Bad input: one line on stderr, exit 64, no file left behind.
use strict;
use warnings;
use utf8;
use FindBin;
use lib $FindBin::Bin;
use RaceTest;
use Test::More;
use JSON::PP;
use Encode ();
use Time::HiRes qw(sleep time);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $ROOT = "$FindBin::Bin/..";
my $CI = ($ENV{CI} // '') eq 'true';
my $tmp = private_tmp();
my $SOCK = "$tmp/tmux";
my $TIMEOUT = $ENV{RACELAB_TMUX_TIMEOUT} // 30;
END { system("tmux -S '$SOCK' kill-server 2>/dev/null") if $SOCK && -S $SOCK; }

sub have { system("command -v $_[0] >/dev/null 2>&1") == 0 }
for my $tool (qw(tmux asciinema rsvg-convert)) {
    next if have($tool);
    $CI ? fail("$tool is missing (scripts/install-deps.sh installs it)")
        : diag("$tool is missing: its checks are skipped (scripts/install-deps.sh installs it)");
}
my $SVG_TERM = "$ROOT/scripts/node/node_modules/.bin/svg-term";
$SVG_TERM = 'svg-term' if !-x $SVG_TERM && have('svg-term');

sub slurp { open my $fh, '<:raw', $_[0] or return undef; local $/; scalar <$fh> }
sub tmux { system('tmux', '-S', $SOCK, '-f', '/dev/null', @_) == 0 }
sub capture { scalar `tmux -S '$SOCK' capture-pane -p -t '$_[0]' 2>/dev/null` }
sub wait_for {
    my ($s, $re, $what) = @_;
    my $end = time + $TIMEOUT;
    my $t = '';
    while (time < $end) {
        $t = capture($s);
        return $t if $t =~ $re;
        sleep 0.05;
    }
    diag("timed out waiting for $what; the pane shows:\n$t");
    return undef;
}
sub start {
    my ($s, $cmd, $quiet) = @_;
    tmux('new-session', '-d', '-s', $s, '-x', 100, '-y', 30, '-e', 'LANG=C.UTF-8',
         '-e', 'LC_ALL=C.UTF-8', $quiet ? "$cmd; sleep 600" : "$cmd; echo exit=\$?; sleep 600")
        or BAIL_OUT('tmux cannot start a session');
}
sub events {
    my ($file) = @_;
    my @lines = split /\n/, slurp($file) // '';
    my @ev;
    for my $i (1 .. $#lines) { push @ev, eval { decode_json($lines[$i]) } }
    return (eval { decode_json($lines[0] // '') }, @ev);
}

my %golden = (
    product => "-s naive --schedule 't1.read t2.read t1.write t2.write'",
    coupon  => "coupon -s naive --schedule 't1.check t2.check t1.redeem t2.redeem'",
);
my %anomaly = (product => qr/^T2 overwrote T1's sale$/, coupon => qr/^T2: a 2nd redemption/);

SKIP: {
    skip 'tmux and asciinema are needed for the golden recordings', 1
        unless have('tmux') && have('asciinema');
    for my $name (sort keys %golden) {
        my $cast = "$tmp/$name.cast";
        my $expected = "$ROOT/tests/expected/record-$name-naive.cast";
        # SHELL and TERM go into the header: fixed, as --seed fixes the seed shown.
        start("live-$name", "env TMPDIR='$tmp' SHELL=/bin/sh TERM=xterm-256color $RACELAB"
              . " $golden{$name} --seed 42 --record '$cast' --record-clock virtual");
        my $live = wait_for("live-$name", qr/finished in/, 'the end of the run');
        ok($live, "$name: the schedule plays on the dashboard while it is recorded");
        tmux('send-keys', '-t', "live-$name", 'q');
        like(wait_for("live-$name", qr/exit=\d+/, 'racelab to exit') // '', qr/exit=0/,
             "$name: q exits 0");
        if ($ENV{RACELAB_BLESS}) {
            system('cp', $cast, $expected) == 0 or die "cp: $!";
            diag("wrote $expected");
        }
        my ($got, $want) = (slurp($cast), slurp($expected));
        ok(defined $got && defined $want && $got eq $want,
           "$name: the virtual-clock recording is byte for byte tests/expected/record-$name-naive.cast");

        my ($head, @ev) = events($cast);
        ok($head && $head->{version} == 2 && $head->{width} == 100 && $head->{height} == 30,
           "$name: the header says asciicast v2, 100x30");
        ok(!grep({ !defined } @ev), "$name: every event line is JSON");
        my @marks = map { $_->[2] } grep { $_->[1] eq 'm' } @ev;
        my @steps = grep { /^t\d\.\w+$/ } @marks;
        is(scalar @steps, $name eq 'product' ? 4 : 6, "$name: a marker at every step (@steps)");
        ok((grep { $_ =~ $anomaly{$name} } @marks), "$name: a marker names the anomaly");
        ok((grep { /^naive: .*(lost update|double redemption)/ } @marks), "$name: a marker gives the verdict");
        my @t = map { $_->[0] } @ev;
        ok(!grep({ $t[$_] < $t[$_ - 1] } 1 .. $#t), "$name: time never goes back");

        # The cast played in a pane of the same size, up to the dashboard's last
        # frame (its last output event closes the alternate screen).
        my ($last) = grep { $ev[$_][1] eq 'o' } reverse 0 .. $#ev;
        like($ev[$last][2], qr/\e\[\?1049l/, "$name: the recording ends by leaving the alternate screen");
        my @lines = split /\n/, $got;
        my $cut = "$tmp/$name-cut.cast";
        open my $fh, '>:raw', $cut or die;
        print $fh join("\n", @lines[0 .. $last]), "\n";     # header + events before it
        close $fh;
        # Nothing may be printed after it (that would scroll the screen): a file
        # says asciinema cat is done.
        start("play-$name", "asciinema cat '$cut'; touch '$tmp/played-$name'", 1);
        my $end = time + $TIMEOUT;
        sleep 0.05 while !-e "$tmp/played-$name" && time < $end;
        my $played = -e "$tmp/played-$name" ? capture("play-$name") : undef;
        my $screen = $live // '';
        s/\s+$//mg for $played, $screen;
        $played =~ s/\n+\z//; $screen =~ s/\n+\z//;
        ok(defined $played && $played eq $screen,
           "$name: asciinema cat replays the dashboard's final screen exactly")
            or diag("live:\n$screen\nplayed:\n" . ($played // ''));

        start("full-$name", "asciinema play -i 0.1 '$cast' </dev/null; echo play=\$?");
        like(wait_for("full-$name", qr/play=\d+/, 'asciinema play') // '', qr/play=0/,
             "$name: asciinema play runs the recording to the end");
        SKIP: {
            skip 'svg-term-cli is not installed (scripts/install-deps.sh installs it)', 1
                unless -x $SVG_TERM || $SVG_TERM eq 'svg-term';
            my $svg = "$tmp/$name-term.svg";
            system("'$SVG_TERM' --in '$cast' --out '$svg' --window 2>'$tmp/svgterm.err'");
            ok(-s $svg && (slurp($svg) // '') =~ /<svg/ && (slurp($svg) // '') =~ /finished/,
               "$name: svg-term-cli renders the recording") or diag(slurp("$tmp/svgterm.err"));
        }
    }
}

# --- m: the speaker's own marker, on a free run recorded by the wall clock -------
SKIP: {
    skip 'tmux is needed', 3 unless have('tmux');
    my $cast = "$tmp/marks.cast";
    start('marks', "env TMPDIR='$tmp' $RACELAB -n 3 --record '$cast'");
    ok(wait_for('marks', qr/naive.*atomic.*locked/s, 'the panels'), 'm: the dashboard is up');
    tmux('send-keys', '-t', 'marks', 'm');
    tmux('send-keys', '-t', 'marks', 'm');
    wait_for('marks', qr/finished in/, 'the end of the run');
    tmux('send-keys', '-t', 'marks', 'q');
    like(wait_for('marks', qr/exit=\d+/, 'racelab to exit') // '', qr/exit=0/, 'm: q exits 0');
    my (undef, @ev) = events($cast);
    my @marks = map { $_->[2] } grep { $_->[1] eq 'm' } @ev;
    ok((grep { $_ eq 'marker 1' } @marks) && (grep { $_ eq 'marker 2' } @marks),
       'm drops numbered markers in the recording') or diag("markers: @marks");
}

# --- --no-ui: the text report is recorded, with the same markers --------------------
{
    my $cast = "$tmp/text.cast";
    my ($st, $out, $err) = racelab(['-s', 'naive', '--schedule', 't1.read t2.read t1.write t2.write',
                                    '--seed', '5', '--no-ui', '--record', $cast,
                                    '--record-clock', 'virtual'], TMPDIR => $tmp);
    is($st, 0, '--no-ui --record: exit 0');
    my ($head, @ev) = events($cast);
    my $text = join '', map { $_->[2] } grep { $_->[1] eq 'o' } @ev;
    (my $crlf = Encode::decode("UTF-8", $out)) =~ s/\n/\r\n/g;
    is($text, $crlf, '--no-ui --record: the recording holds what stdout got, newlines as a terminal gets them');
    my @marks = map { $_->[2] } grep { $_->[1] eq 'm' } @ev;
    is_deeply([grep { /^t\d\./ } @marks], [qw(t1.read t2.read t1.write t2.write)],
              '--no-ui --record: a marker at every step, in order');
    ok((grep { /^T2 overwrote T1's sale$/ } @marks), '--no-ui --record: the lost update is a marker');
    my %at = map { $_->[2] => $_->[0] } grep { $_->[1] eq 'm' } @ev;
    is($at{'t2.read'} - $at{'t1.read'}, 0.25, '--record-clock virtual: one pace (250 ms) per step');
    ok(!exists $head->{timestamp}, '--record-clock virtual: no wall-clock timestamp in the header');
    ($st) = racelab(['-s', 'naive', '-n', '3', '--no-ui', '--record', "$tmp/wall.cast"], TMPDIR => $tmp);
    ($head) = events("$tmp/wall.cast");
    ok($st == 0 && $head && $head->{timestamp} > 1.7e9, '--record (wall clock): the header has the start time');
}

# --- --svg: every scenario and strategy, light and dark -----------------------------
my %schedules = (
    'product naive'  => 't1.read t2.read t1.write t2.write',
    'product atomic' => 't1.update t2.update',
    'product locked' => 't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit',
    'coupon naive'   => 't1.check t2.check t1.redeem t2.redeem',
    'coupon atomic'  => 't1.claim t2.claim t1.redeem t2.redeem',
    'coupon locked'  => 't1.begin t1.lock t2.begin t2.lock t1.redeem t1.mark t1.commit',
);
SKIP: {
    skip 'rsvg-convert is needed', 1 unless have('rsvg-convert');
    for my $k (sort keys %schedules) {
        my ($scn, $strategy) = split ' ', $k;
        for my $theme (qw(light dark)) {
            my $svg = "$tmp/$scn-$strategy-$theme.svg";
            my ($st, undef, $err) = racelab([$scn, '-s', $strategy, '--schedule', $schedules{$k},
                                             '--no-ui', '--svg', $svg, '--svg-theme', $theme],
                                            TMPDIR => $tmp);
            is($st, 0, "--svg $scn/$strategy ($theme): exit 0") or diag($err);
            my $png = "$tmp/$scn-$strategy-$theme.png";
            my $warn = `rsvg-convert '$svg' -o '$png' 2>&1`;
            ok($? == 0 && $warn eq '' && -s $png,
               "--svg $scn/$strategy ($theme): rsvg-convert renders it without a warning") or diag($warn);
            my $pic = slurp($svg) // '';
            my $arrows = () = $pic =~ /marker-end="url\(#arrow\)"/g;
            if ($strategy eq 'naive') {
                is($arrows, 1, "--svg $scn/naive ($theme): the anomaly is one arrow");
            } else {
                is($arrows, 0, "--svg $scn/$strategy ($theme): no arrow where nothing was lost");
            }
            if ($strategy eq 'locked' && $theme eq 'light') {
                like($pic, qr/waits for the lock/, "--svg $scn/locked: the wait is a bar");
            }
        }
    }
    # The rest of the ladder and the other scenarios: a seeded random order of two
    # threads each; a safe strategy's picture has no anomaly arrow.
    my %more = (product => [qw(deferred optimistic serializable)], coupon => [qw(unique nowait)],
                tickets => [qw(naive atomic locked skip_locked)],
                transfer => [qw(naive locked ordered serializable)]);
    for my $scn (sort keys %more) {
        for my $strategy (@{ $more{$scn} }) {
            my $svg = "$tmp/$scn-$strategy-random.svg";
            my ($st, undef, $err) = racelab([$scn, '-s', $strategy, '-t', '2', '-n', '1',
                                             '--schedule', 'random', '--seed', '3', '--no-ui',
                                             '--svg', $svg], TMPDIR => $tmp);
            ok($st == 0 || $st == 1, "--svg $scn/$strategy: the run ends") or diag($err);
            my $warn = `rsvg-convert '$svg' -o '$tmp/$scn-$strategy-random.png' 2>&1`;
            ok($? == 0 && $warn eq '', "--svg $scn/$strategy: rsvg-convert renders it without"
               . " a warning") or diag($warn);
            my $arrows = () = (slurp($svg) // '') =~ /marker-end="url\(#arrow\)"/g;
            is($arrows, 0, "--svg $scn/$strategy: no anomaly arrow") if $strategy ne 'naive';
        }
    }
    # A free run of all three, and the dashboard.
    my $svg = "$tmp/free.svg";
    my ($st) = racelab(['-n', '20', '--no-ui', '--svg', $svg], TMPDIR => $tmp, RACELAB_PACE_MS => 1);
    my $warn = `rsvg-convert '$svg' -o '$tmp/free.png' 2>&1`;
    ok($st == 0 && $? == 0 && $warn eq '', '--svg of a free run with three strategies renders');
    my $pic = slurp($svg) // '';
    ok($pic =~ />naive</ && $pic =~ />atomic</ && $pic =~ />locked</, '--svg free run: a section per strategy');
}

# --- bad input ------------------------------------------------------------------------
for my $case (
    [['--record-clock', 'virtual'], qr/--record-clock .* give --record/, 'the clock without --record'],
    [['--record', "$tmp/x.cast", '--record-clock', 'lunar'], qr/'lunar'.*wall or virtual/, 'an unknown clock'],
    [['--svg', "$tmp/x.svg", '--svg-theme', 'pink'], qr/'pink'.*light or dark/, 'an unknown theme'],
    [['--svg-theme', 'dark'], qr/give --svg/, 'a theme without --svg'],
    [['--record', "$tmp/x.cast", '--json'], qr/--json/, '--record with --json'],
    [['--record', ''], qr/empty file name/, 'an empty file name'],
    [['--record', '--no-ui'], qr/needs a value/, 'an option where the file name goes'],
    [['--latency', '0,5', '--svg', "$tmp/x.svg"], qr/--latency sweep/, '--svg with a --latency sweep'],
    [['--record', "$tmp/no/such/dir/x.cast", '--no-ui', '-n', '1'], qr/cannot write the recording/, 'an unwritable file'],
    [['--svg', "$tmp/no/such/dir/x.svg", '--no-ui', '-n', '1'], qr/cannot write the picture/, 'an unwritable picture'],
) {
    my ($args, $re, $what) = @$case;
    my ($st, $out, $err) = racelab($args, TMPDIR => $tmp);
    is($st, 64, "refused: $what: exit 64");
    ok($err =~ $re && ($err =~ tr/\n//) == 1, "refused: $what: one line that says why") or diag($err);
}
ok(!-e "$tmp/x.cast" && !-e "$tmp/x.svg", 'refused: no file left behind');

done_testing();
