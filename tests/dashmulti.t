#!/usr/bin/env perl
# dashmulti.t: the dashboard with several runs, on a real terminal (tmux, on a
# private socket).
# --schedule all: the title names the order and its schedule, ] and [ move between
# orders, the tally under the panels counts the orders played and those that lost
# a sale, an order played by itself moves on to the next, and what is printed
# after q is, line for line, what --schedule all --no-ui prints; Ctrl-C restores
# the terminal and leaves nothing behind.
# -b sqlite,postgres: both backends' panels side by side, titled with the backend,
# the wait shown where each waits (SQLite at begin, PostgreSQL at lock), both
# verdicts, and after q both reports and the side-by-side table as the text run
# prints them; a step key moves a thread on the backend that can take it and says
# why the other cannot; Ctrl-C drops every schema.
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


sub press { my ($s, @k) = @_; tmux('send-keys', '-t', $s, @k) }



# Everything the pane has printed (history and screen), wrapped lines joined.
sub scrollback { return capture($_[0], '-J', '-S', '-') }

sub restored {
    my ($name, $label) = @_;
    is(pane_var($name, 'alternate_on'), '0', "$label: the alternate screen is closed");
    like(wait_for($name, qr/^tty: /m, 'the tty line') // '', qr/^tty: icanon echo$/m,
         "$label: the tty is back in canonical mode with echo");
}

sub fits {
    my ($t, $w) = @_;
    return $t && !grep { length > $w } split /\n/, $t;
}

# The columns of PANEL (0-based) of N equal panels across a screen W wide, as
# the text of each line there.
sub panel_text {
    my ($t, $w, $n, $panel) = @_;
    my ($x, $pw) = (0, 0);
    for my $i (0 .. $panel) {
        $x += $pw;
        $pw = int($w / $n) + ($i < $w % $n ? 1 : 0);
    }
    return join "\n", map { length > $x ? substr($_, $x, $pw) : '' } split /\n/, $t;
}

# ---- --schedule all ----------------------------------------------------------
for my $b (backends()) {
    my ($backend, $where) = @$b;
    my @db = ('-b', $backend, defined $where ? ('-d', $where) : ());
    my $db = "-b $backend" . (defined $where ? " -d \"$where\"" : '');
    my $s = "orders-$backend";
    my $tmp = private_tmp();

    # --step: every order waits for the keys, so each screen is known.
    tmux_start($s, 100, 32, "product -s naive --schedule all --step $db", TMPDIR => $tmp,
          RACELAB_PACE_MS => 20);
    # The whole first frame: the title, the tally and the footer.
    my $t = wait_for($s, qr/order 1 of 6: t1\.read t1\.write t2\.read t2\.write.*\[ \]\s+order/s,
                     'order 1');
    ok($t, "$backend orders: the title names order 1 of 6 and its schedule");
    like($t // '', qr/naive: 6 orders, none played yet/, "$backend orders: the tally, before any");
    like($t // '', qr/\[ \]\s+order/, "$backend orders: the footer names the keys for orders");
    press($s, qw(n n n n));
    $t = wait_for($s, qr/naive: 0 of 1 order played shows a lost update \(6 in all\)/,
                  'order 1 played');
    ok($t, "$backend orders: order 1 played by hand keeps both sales, and the tally says so");
    like($t // '', qr/✓ ok: all 2 sales counted/, "$backend orders: order 1's verdict");
    press($s, ']');
    $t = wait_for($s, qr/order 2 of 6: t1\.read t2\.read t1\.write t2\.write/, 'order 2');
    ok($t, "$backend orders: ] moves to order 2");
    press($s, qw(n n n n));
    $t = wait_for($s, qr/naive: 1 of 2 orders played show a lost update \(6 in all\)/,
                  'order 2 played');
    ok($t, "$backend orders: order 2 loses a sale, and the tally counts it");
    like($t // '', qr/T2 read 0 write 1 ✗ overwrote T1's 1/,
         "$backend orders: the lost update is marked on T2's lane");
    press($s, '[');
    ok(wait_for($s, qr/order 1 of 6: t1\.read t1\.write/, 'order 1 again'),
       "$backend orders: [ goes back to order 1");
    press($s, ']', ']');
    ok(wait_for($s, qr/order 3 of 6: t1\.read t2\.read t2\.write t1\.write/, 'order 3'),
       "$backend orders: ] ] goes on to order 3");
    # s: play; each order moves on to the next by itself when it is over.
    press($s, 's');
    $t = wait_for($s, qr/naive: 4 of 6 orders played show a lost update \(6 in all\)/,
                  'every order played');
    ok($t, "$backend orders: played by themselves, orders 3 to 6 follow; 4 of the 6 lose a sale");
    like($t // '', qr/order 6 of 6: t2\.read t2\.write t1\.read t1\.write/,
         "$backend orders: the last order stays on the screen");
    like($t // '', qr/that was the last order: q prints them all/,
         "$backend orders: the status line says it was the last");
    press($s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, "$backend orders: q exits 0");
    restored($s, "$backend orders");
    my ($st, $want) = racelab(['product', '-s', 'naive', @db, '--schedule', 'all']);
    my ($got) = scrollback($s) =~ /^(racelab \S+: product: every order.*?)^racelab-exit=/ms;
    $got //= '';
    s/[ \t]+$//mg, s/\n+\z/\n/ for $got, $want;
    is($got, $want, "$backend orders: printed after q, exactly what --schedule all --no-ui prints");
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], "$backend orders: no database left behind");
}

# Quit after one order: the text holds that order, and says the others were not played.
{
    my $s = 'orders-one';
    tmux_start($s, 100, 32, 'product -s naive --schedule all --step', TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move/, 'step mode'), 'one order: step mode');
    press($s, qw(n n n n));
    ok(wait_for($s, qr/naive: 0 of 1 order played/, 'order 1 played'), 'one order: played');
    press($s, 'q');
    my $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, 'one order: q exits 0');
    my $all = scrollback($s);
    is(scalar(() = $all =~ /^naive\s+\d+\s+t\d\./mg), 1, 'one order: one line, for the order played');
    like($all, qr/^naive: 0 of 1 orders show a lost update \(1 distinct executions\); 5 of its 6 orders were not played$/m,
         'one order: the summary counts what was played, and says what was not');
}

# 80x24: the order, its lanes and the tally fit; an order played by itself is
# followed by the next without a key.
{
    my $s = 'orders-80';
    tmux_start($s, 80, 24, 'product --schedule all', TMPDIR => private_tmp(), RACELAB_PACE_MS => 10);
    my $t = wait_for($s, sub { $_[0] =~ /order 2 of 6: t1\.read t2\.read t1\.write t2\.write/
                               && $_[0] =~ /─ naive / && $_[0] =~ /^ naive: \d of \d order/m },
                     'order 2');
    ok($t, '80x24 orders: order 1 plays and order 2 follows by itself');
    ok(fits($t, 80), '80x24 orders: nothing runs past the edge');
    like($t // '', qr/─ naive /, '80x24 orders: the panel of the strategy playing');
    like($t // '', qr/^ naive: \d of \d orders? played shows? a lost update \(6 in all\)/m,
         '80x24 orders: the tally under the panel');
    press($s, 'C-c');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=130/, '80x24 orders: Ctrl-C exits 130');
    like($t // '', qr/interrupted; the databases were cleaned up/,
         '80x24 orders: and says the databases were cleaned up');
    restored($s, '80x24 orders Ctrl-C');
}

# ---- -b sqlite,postgres --------------------------------------------------------
my @pg = grep { $_->[0] eq 'postgres' } backends();
for my $where (map { $_->[1] } @pg) {
    my $psql = sub {
        my $n = `psql -XAtq '$where' -c "$_[0]"`;
        chomp $n;
        return $n;
    };
    my $schedule = 't1.begin t1.lock t2.begin t2.lock t1.write t1.commit t2.write t2.commit';
    my $s = 'both-locked';
    tmux_start($s, 132, 40, "product -s locked -b sqlite,postgres -d \"$where\" --schedule \"$schedule\"",
          TMPDIR => private_tmp(), RACELAB_PACE_MS => 20);
    my $t = wait_for($s, sub { (() = $_[0] =~ /✓ ok: all 2 sales counted/g) == 2 } , 'both verdicts');
    ok($t, 'both: the schedule plays to its end on both backends');
    my ($sq, $pq) = map { panel_text($t // '', 132, 2, $_) } 0, 1;
    like($sq, qr/─ SQLite · locked /, 'both: the left panel is SQLite\'s, titled with the strategy');
    like($pq, qr/─ PostgreSQL · locked /, 'both: the right panel is PostgreSQL\'s');
    like($sq, qr/T2 begin \(waited[^)]*\) lock 1 write 2 commit/,
         'both: on SQLite T2 waited at begin (BEGIN IMMEDIATE)');
    like($pq, qr/T2 begin lock 1 \(waited[^)]*\) write 2 commit/,
         'both: on PostgreSQL T2 waited at lock (FOR UPDATE)');
    like($sq, qr/✓ ok: all 2 sales counted/, 'both: SQLite\'s verdict');
    like($pq, qr/✓ ok: all 2 sales counted/, 'both: PostgreSQL\'s verdict');
    like($sq, qr/BEGIN IMMEDIATE/, 'both: the SQLite panel says BEGIN IMMEDIATE locks the database');
    press($s, 'q');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=0/, 'both: q exits 0');
    restored($s, 'both');
    my $all = scrollback($s);
    like($all, qr/^== SQLite[ \t]*\n.*^== PostgreSQL[ \t]*\n/ms, 'both: both reports are printed after q');
    like($all, qr/^schedule: \Q$schedule\E$/m, 'both: the reports name the schedule given');
    my ($st, $want) = racelab(['product', '-s', 'locked', '-b', 'sqlite,postgres', '-d', $where,
                               '--schedule', $schedule]);
    my ($got) = $all =~ /^(== side by side:.*?^PostgreSQL: .*?\n)/ms;
    my ($exp) = $want =~ /^(== side by side:.*?^PostgreSQL: .*?\n)/ms;
    s/[ \t]+$//mg for grep { defined } $got, $exp;
    ok(defined $exp, 'both: the text run prints the side-by-side table');
    is($got, $exp, 'both: the side-by-side table and where each waits, as the text run prints them');

    # 80x24: the panels are narrow (steps by their first letter), and the wait
    # is still marked on the step that waited.
    $s = 'both-80';
    tmux_start($s, 80, 24, "product -s locked -b sqlite,postgres -d \"$where\" --schedule \"$schedule\"",
          TMPDIR => private_tmp(), RACELAB_PACE_MS => 20);
    $t = wait_for($s, sub { (() = $_[0] =~ /✓ ok: all 2 sales counted/g) == 2 }, 'both verdicts');
    ok(fits($t, 80), 'both 80x24: nothing runs past the edge');
    like(panel_text($t // '', 80, 2, 0), qr/T2 B⏳ L 1 W 2 C/, 'both 80x24: SQLite\'s T2 waited at B');
    like(panel_text($t // '', 80, 2, 1), qr/T2 B L⏳ 1 W 2 C/, 'both 80x24: PostgreSQL\'s at L');
    press($s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'both 80x24: q exits 0');

    # Step mode: a key moves a thread on the backend that can take it.
    $s = 'both-step';
    tmux_start($s, 132, 40, "product -s locked -t 2 --step -b sqlite,postgres -d \"$where\"",
          TMPDIR => private_tmp());
    ok(wait_for($s, qr/your move/, 'step mode'), 'both step: the dashboard waits for a move');
    press($s, qw(1 1 2));
    # SQLite's BEGIN IMMEDIATE waits for T1's write lock; PostgreSQL's BEGIN does not.
    $t = wait_for($s, sub { panel_text($_[0], 132, 2, 0) =~ /T2 → T1/
                            && panel_text($_[0], 132, 2, 1) =~ /next  lock: SELECT/ },
                  'T2 waiting at begin on SQLite only');
    ok($t, 'both step: 1 1 2: T2 waits at begin on SQLite, and is at lock on PostgreSQL');
    press($s, '2');
    $t = wait_for($s, qr/T2 moved on PostgreSQL; on SQLite it waits for T1's lock/,
                  'the partial move');
    ok($t, 'both step: the next 2 moves T2 on PostgreSQL only, and says why not on SQLite');
    $t = wait_for($s, sub { panel_text($_[0], 132, 2, 1) =~ /T2 → T1/ }, 'T2 waiting on PostgreSQL');
    ok($t, 'both step: ... where T2 now waits at lock (FOR UPDATE)');
    press($s, 'u');
    $t = wait_for($s, sub { panel_text($_[0], 132, 2, 1) !~ /T2 → T1/ && $_[0] =~ /your move/ },
                  'the undo');
    ok($t, 'both step: u takes back that step');
    like(panel_text($t // '', 132, 2, 0), qr/T2 → T1/,
         'both step: ... on PostgreSQL only, where it moved: SQLite\'s T2 still waits');
    press($s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'both step: q exits 0');
    restored($s, 'both step');

    # A free run on both, 80x24, then Ctrl-C: every schema dropped.
    $s = 'both-free';
    my $tmp = private_tmp();
    tmux_start($s, 80, 24, "product -b sqlite,postgres -d \"$where\" -n 1000", TMPDIR => $tmp);
    $t = wait_for($s, qr/SQLite · naive/, 'the panels');
    ok(fits($t, 80), 'both free 80x24: nothing runs past the edge');
    like($t // '', qr/panels 1-3 of 6/, 'both free 80x24: SQLite\'s three panels, and the others paged');
    press($s, '>');
    ok(wait_for($s, qr/PostgreSQL · naive/, 'the PostgreSQL panels'), 'both free 80x24: > shows PostgreSQL\'s');
    # racelab is the pane's shell's child; its schemas carry its process id.
    my $shell = pane_var($s, 'pane_pid');
    my ($pid) = `ps -o pid= --ppid $shell` =~ /(\d+)/;
    ok($pid && $psql->("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%\\_${pid}\\_%'") > 0,
       'both free: its schemas exist while it runs');
    press($s, 'C-c');
    $t = wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit');
    like($t // '', qr/racelab-exit=130/, 'both free: Ctrl-C exits 130');
    restored($s, 'both free Ctrl-C');
    is($psql->("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'racelab%\\_${pid}\\_%'"), '0',
       'both free: Ctrl-C drops every schema');
    opendir my $dh, $tmp or die;
    is_deeply([grep { !/^\.\.?$/ } readdir $dh], [], 'both free: no SQLite file left behind');

    # Too small for two panels.
    $s = 'both-tiny';
    tmux_start($s, 40, 10, "product -s naive -b sqlite,postgres -d \"$where\" -n 1000",
          TMPDIR => private_tmp());
    ok(wait_for($s, qr/too small/i, 'the too-small message'), 'both 40x10: too small, and it says so');
    press($s, 'q');
    like(wait_for($s, qr/racelab-exit=\d+/, 'racelab to exit') // '', qr/racelab-exit=0/,
         'both 40x10: q exits 0');
}
done_testing();
