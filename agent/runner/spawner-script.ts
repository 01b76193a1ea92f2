// The spawner's program (Perl, run by spawner.ts). It forks the runs' waiting shells so that the
// agent, a large Node process whose every fork costs 2-4 ms of CPU, does not have to: a fork of
// this 7 MB process costs ~0.2 ms. perl-base is part of every Debian and Ubuntu system; where
// /usr/bin/perl is missing the agent forks the runs itself, as before.
//
// Protocol. Agent → spawner (stdin): records `<length>:<fields joined by NUL>`; a NUL cannot occur
// in an argument, a path or an environment value, so nothing needs escaping.
//   S id line uid gid cwd nice ncg cg... command env...   spawn a waiting shell (line 0: own gate)
//   R id / C id          open / close (never released) the run's own gate
//   K id SIGNAL          signal the run's process group (ignored once the run was reaped)
//   Z id / z id          stop / resume reading the run's output (the agent is behind)
//   L id / F id write    make / fire a start line (write 1: one newline per member, then close)
// Spawner → agent (stdout): frames `type(1) id(u32) length(u32) payload`:
//   H (once, at start: it compiled and runs) | P pid | E "stage errno" (the spawn failed, before or after its P; nothing follows)
//   O output | X "code signal" | D (no more output)
//
// The child: own session (its pid is its process group), stdin /dev/null, stdout and stderr one
// pipe, fd 3 the gate; into its cgroups and at the jobs' niceness before it execs, so it is never
// seen running outside them; then `setpriv [--reuid --regid --clear-groups] --pdeathsig KILL
// /bin/sh -c GATE`. The parent-death signal now points at the spawner, which itself dies with the
// agent (its own setpriv), so a kill -9 of the agent takes the whole chain down at once, and a
// kill -9 of the spawner alone takes its runs (the agent records them as such and starts another).
// Every descriptor Perl opens is close-on-exec ($^F = 2); the child gets only 0-3.
// Bookkeeping is per event, never per run: select's read set is kept as a bit vector and the
// ready descriptors are found by scanning its bits, so 500 waiting runs cost what 5 do.
export const SPAWNER_SCRIPT = String.raw`
use strict;
use POSIX ();
use Fcntl qw(F_GETFL F_SETFL F_SETFD O_NONBLOCK);
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';
my $chld = 0;
$SIG{CHLD} = sub { $chld = 1 };
my ($setpriv, $gate) = @ARGV;
my (%run, %bypid, %line, %outfd, %errfd, %draining);
my ($in, $outq) = ('', '');
# Read set: stdin, every error pipe, every output not paused; $errbits without the outputs.
my ($rbits, $errbits) = ('', '');
vec($rbits, 0, 1) = 1; vec($errbits, 0, 1) = 1;
my $DRAIN = 0.2;
sub nb { my $f = shift; fcntl($f, F_SETFL, fcntl($f, F_GETFL, 0) | O_NONBLOCK) }
nb(\*STDOUT);
# Elapsed real time in clock ticks (10 ms): perl-base has no Time::HiRes.
my $TCK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
sub now { (POSIX::times())[0] / $TCK }
sub frame { $outq .= pack('a1 N N', $_[0], $_[1], length($_[2])) . $_[2] }
sub flush {
  while (length $outq) {
    my $n = syswrite(STDOUT, $outq, 65536);
    last unless defined $n && $n > 0;
    substr($outq, 0, $n) = '';
  }
}
sub close_out {
  my $r = shift;
  return unless $r->{out};
  my $fd = fileno $r->{out};
  delete $outfd{$fd}; vec($rbits, $fd, 1) = 0;
  close $r->{out}; $r->{out} = undef;
}
sub close_err {
  my $r = shift;
  return unless $r->{err};
  my $fd = fileno $r->{err};
  delete $errfd{$fd}; vec($rbits, $fd, 1) = 0; vec($errbits, $fd, 1) = 0;
  close $r->{err}; $r->{err} = undef;
}
sub spawn {
  my ($id, $lid, $uid, $gid, $cwd, $nice, $ncg, @rest) = @_;
  my @cg = splice(@rest, 0, $ncg);
  my ($cmd, @env) = @rest;
  my $gr;
  my $r = { id => $id };
  if ($lid) {
    my $l = $line{$lid};
    return frame('E', $id, 'line 9') unless $l;  # EBADF: the line is gone
    $gr = $l->{r}; $l->{n}++;
  } else {
    pipe($gr, my $gw) or return frame('E', $id, 'pipe ' . ($! + 0));
    $r->{gate} = $gw;
  }
  pipe(my $or, my $ow) or return frame('E', $id, 'pipe ' . ($! + 0));
  pipe(my $er, my $ew) or return frame('E', $id, 'pipe ' . ($! + 0));
  my $pid = fork();
  if (!defined $pid) { return frame('E', $id, 'fork ' . ($! + 0)) }
  if ($pid == 0) {
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
    POSIX::setsid();
    for my $p (@cg) { if (open(my $f, '>', $p)) { syswrite($f, '0'); close $f } }
    setpriority(0, 0, $nice) if $nice ne '';
    open(STDIN, '<', '/dev/null');
    POSIX::dup2(fileno($ow), 1); POSIX::dup2(fileno($ow), 2);
    # dup2 onto itself would keep close-on-exec
    if (fileno($gr) == 3) { fcntl($gr, F_SETFD, 0) } else { POSIX::dup2(fileno($gr), 3) }
    if ($cwd ne '' && !chdir($cwd)) { syswrite($ew, 'chdir ' . ($! + 0)); POSIX::_exit(127) }
    %ENV = ();
    for (@env) { my $i = index($_, '='); $ENV{substr($_, 0, $i)} = substr($_, $i + 1) }
    my @who = $uid ne '' ? ("--reuid=$uid", "--regid=$gid", '--clear-groups') : ();
    { exec { $setpriv } 'setpriv', @who, '--pdeathsig', 'KILL', '/bin/sh', '-c', $gate, 'peppercorn-run', $cmd };
    syswrite($ew, 'exec ' . ($! + 0));
    POSIX::_exit(127);
  }
  close $ow; close $ew;
  nb($or); nb($er);
  # Not waiting here for the exec: the next spawns go on while this child starts. Its error pipe
  # says at EOF that it exec'd, or before that why it could not (reported as E after the P).
  $r->{pid} = $pid; $r->{out} = $or; $r->{err} = $er; $r->{why} = '';
  $run{$id} = $r; $bypid{$pid} = $r;
  $outfd{fileno $or} = $r; vec($rbits, fileno $or, 1) = 1;
  $errfd{fileno $er} = $r; vec($rbits, fileno $er, 1) = 1; vec($errbits, fileno $er, 1) = 1;
  frame('P', $id, $pid);
}
# The group, or the child itself while it has not reached its setsid (just forked).
sub kill_run { kill($_[0], -$_[1]) or kill($_[0], $_[1]) }
sub exec_result {
  my $r = shift;
  my $got = sysread($r->{err}, $r->{why}, 256, length $r->{why});
  return if !defined $got || $got > 0;
  close_err($r);
  return if $r->{why} eq '';
  # It did not exec: the agent is told once (E); its exit 127 is not a run's exit.
  $r->{failed} = 1;
  frame('E', $r->{id}, $r->{why});
}
sub gone_output {
  my $r = shift;
  close_out($r);
  frame('D', $r->{id}, '');
  delete $run{$r->{id}};
  delete $draining{$r->{id}};
}
sub request {
  my ($op, $id, @a) = split(/\0/, $_[0], -1);
  if ($op eq 'S') { spawn($id, @a) }
  elsif ($op eq 'R' || $op eq 'C') {
    my $r = $run{$id};
    if ($r && $r->{gate}) { syswrite($r->{gate}, "\n") if $op eq 'R'; close $r->{gate}; $r->{gate} = undef }
  }
  elsif ($op eq 'K') { my $r = $run{$id}; kill_run($a[0], $r->{pid}) if $r && !$r->{reaped} }
  elsif ($op eq 'Z' || $op eq 'z') {
    my $r = $run{$id};
    vec($rbits, fileno $r->{out}, 1) = $op eq 'z' ? 1 : 0 if $r && $r->{out};
  }
  elsif ($op eq 'L') {
    pipe(my $lr, my $lw) or return;  # spawns on it then fail with EBADF
    nb($lw);
    $line{$id} = { r => $lr, w => $lw, n => 0 };
  }
  elsif ($op eq 'F') {
    my $l = delete $line{$id} or return;
    if ($a[0] && $l->{n}) {
      my ($buf, $until) = ("\n" x $l->{n}, now() + 5);
      while (length $buf) {
        my $n = syswrite($l->{w}, $buf);
        if ($n) { substr($buf, 0, $n) = '' } elsif (now() > $until) { last } else { select(undef, undef, undef, 0.001) }
      }
    }
    close $l->{w}; close $l->{r};
  }
}
sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $st = $?;
    my $r = delete $bypid{$pid} or next;
    kill('KILL', -$pid);  # leftovers of the group, before its id can be reused
    $r->{reaped} = 1;
    if ($r->{gate}) { close $r->{gate}; $r->{gate} = undef }
    exec_result($r) while $r->{err};
    if ($r->{failed}) { close_out($r); delete $run{$r->{id}}; next }
    frame('X', $r->{id}, ($st & 127) ? '- ' . ($st & 127) : ($st >> 8) . ' -');
    # Output a grandchild keeps open gets this long to arrive (exec.ts drains the same way).
    if ($r->{out}) { $r->{drainUntil} = now() + $DRAIN; $draining{$r->{id}} = $r } else { gone_output($r) }
  }
}
frame('H', 0, $$);
while (1) {
  if ($chld) { $chld = 0; reap() }
  my $t = now();
  # A child's exit is normally seen at once (SIGCHLD interrupts select); the timeout covers a
  # signal that came just before select was entered.
  my $timeout = keys %bypid ? 0.1 : undef;
  for my $r (values %draining) {
    if ($t >= $r->{drainUntil}) { gone_output($r) }
    else { my $d = $r->{drainUntil} - $t; $timeout = $d if !defined $timeout || $d < $timeout }
  }
  # Too much output queued for the agent: read no more of it until the agent has taken some.
  my $rin = length($outq) < (4 << 20) ? $rbits : $errbits;
  my $win = '';
  vec($win, 1, 1) = 1 if length $outq;
  my $n = select(my $rout = $rin, my $wout = $win, undef, $timeout);
  next if $n <= 0;
  flush() if vec($wout, 1, 1);
  my $ready = unpack('b*', $rout);
  while ($ready =~ /1/g) {
    my $fd = pos($ready) - 1;
    if ($fd == 0) {
      my $got = sysread(STDIN, $in, 65536, length $in);
      if (defined $got && $got == 0) {
        # The agent is gone or done: nothing it started may outlive it.
        kill_run('KILL', $_) for keys %bypid;
        POSIX::_exit(0);
      }
      while ($in =~ /^(\d+):/) {
        my $h = length($1) + 1;
        last if length($in) < $h + $1;
        my $rec = substr($in, $h, $1);
        substr($in, 0, $h + length $rec) = '';
        request($rec);
      }
    } elsif (my $r = $errfd{$fd}) {
      exec_result($r);
    } elsif ($r = $outfd{$fd}) {
      my $got = sysread($r->{out}, my $buf, 65536);
      if ($got) { frame('O', $r->{id}, $buf) }
      elsif (defined $got) { if ($r->{reaped}) { gone_output($r) } else { close_out($r) } }
    }
  }
  flush();
}
`;
