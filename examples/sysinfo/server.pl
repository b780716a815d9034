#!/usr/bin/perl
# sysinfo: an example service of another kind than greeter, to try the lab with. Perl, with only the
# modules of perl-base (in every Debian-based image, the lab's offline Node.js base included), so the
# image is one COPY and no RUN; its port is a command-line flag fixed in the image's CMD
# (`--port 7070`), and it never reads PORT. /info says which machine served it: `machine` is the
# kernel's `uname -m` (aarch64 under QEMU for the arm64 variant), `perlArch` the architecture the
# interpreter was built for, i.e. which variant of the image runs.
use strict;
use warnings;
use Config;
use IO::Select;
use IO::Socket::INET;
use POSIX ();

my ($port, $host) = (undef, '0.0.0.0');
while (@ARGV) {
  my $arg = shift @ARGV;
  if ($arg eq '--port' && @ARGV) { $port = shift @ARGV }
  elsif ($arg eq '--host' && @ARGV) { $host = shift @ARGV }
  else { die "sysinfo: unknown argument \"$arg\"; usage: server.pl --port <0-65535> [--host <address>]\n" }
}
if (!defined $port || $port !~ /^\d+$/ || $port > 65535) {
  print STDERR "sysinfo: --port <0-65535> is required (PORT is not read)\n";
  exit 2;
}

$| = 1;
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub { print "sysinfo: stopping\n"; exit 0 };

my $machine = (POSIX::uname())[4];
my $server = IO::Socket::INET->new(
  LocalAddr => $host,
  LocalPort => $port,
  Listen    => 128,
  ReuseAddr => 1,
  Proto     => 'tcp',
) or die "sysinfo: cannot listen on $host:$port: $!\n";
$port = $server->sockport; # --port 0: the one the kernel picked (tests)
printf "sysinfo: listening on %s:%d (PORT=%s is not used)\n", $host, $port, $ENV{PORT} // 'unset';

sub json {
  my (%h) = @_;
  my @pairs;
  for my $k (sort keys %h) {
    my $v = $h{$k};
    if ($v !~ /^\d+$/) { $v =~ s/(["\\])/\\$1/g; $v = "\"$v\"" }
    push @pairs, "\"$k\":$v";
  }
  return '{' . join(',', @pairs) . '}';
}

# [status, reason, body] for a request line.
sub route {
  my ($method, $path) = @_;
  return [404, 'Not Found', json(error => 'not found', path => $path)]
    if $path ne '/info' && $path ne '/ready';
  return [405, 'Method Not Allowed', json(error => 'method not allowed')]
    if $method ne 'GET' && $method ne 'HEAD';
  return [200, 'OK', json(status => 'ok')] if $path eq '/ready';
  return [200, 'OK', json(service => 'sysinfo', machine => $machine, perlArch => $Config{archname}, port => $port)];
}

# One request per connection (Connection: close); a client silent for 5 s is dropped, so a stuck
# one cannot hold the others up for long (requests are served one at a time).
sub serve {
  my ($c) = @_;
  my $select = IO::Select->new($c);
  my $head = '';
  while ($head !~ /\r?\n\r?\n/) {
    return unless $select->can_read(5);
    my $n = sysread($c, my $chunk, 4096);
    return unless $n;
    $head .= $chunk;
    return if length($head) > 65536;
  }
  my ($method, $target) = $head =~ m{^([A-Z]+) (\S+) HTTP/1\.[01]\r?\n};
  return unless defined $method;
  my ($status, $reason, $body) = @{ route($method, (split /\?/, $target)[0]) };
  my $out = "HTTP/1.1 $status $reason\r\nContent-Type: application/json\r\n"
    . 'Content-Length: ' . length($body) . "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  $out .= $body unless $method eq 'HEAD';
  syswrite($c, $out);
}

while (1) {
  my $c = $server->accept or next;
  serve($c);
  close $c;
}
