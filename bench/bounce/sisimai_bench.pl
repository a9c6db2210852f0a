#!/usr/bin/perl
# Sisimai (libsisimai-perl) over the same emails, held in memory, parsed
# round-robin for about SECONDS: Sisimai::Message->new then
# Sisimai::Data->make (what Sisimai->make does per email, without the
# file reading). Prints "sisimai: N emails in S s cpu (W s wall) = R
# emails/s per cpu second" (CPU time from times(), user + system).
use strict;
use warnings;
use Sisimai;
use Sisimai::Message;
use Sisimai::Data;
use Time::HiRes qw(time);

my ($list, $secs) = @ARGV;
open(my $fh, '<', $list) or die "$list: $!";
my @mails;
while (my $path = <$fh>) {
    chomp $path;
    open(my $m, '<', $path) or die "$path: $!";
    local $/;
    push @mails, scalar <$m>;
    close $m;
}
close $fh;
my ($done, $rcpts, $t0, $t) = (0, 0, time, 0);
my @c0 = times;
do {
    for my $raw (@mails) {
        my $mesg = Sisimai::Message->new('data' => $raw);
        if ($mesg) {
            my $data = Sisimai::Data->make('data' => $mesg, 'delivered' => 1);
            $rcpts += scalar @$data if $data;
        }
    }
    $done += @mails;
    $t = time - $t0;
} while ($t < $secs);
my @c1 = times;
my $cpu = ($c1[0] + $c1[1]) - ($c0[0] + $c0[1]);
$cpu = $t if $cpu <= 0;
printf "sisimai: %d emails in %.2f s cpu (%.2f s wall) = %.0f emails/s per cpu second (%d records, Sisimai %s)\n",
    $done, $cpu, $t, $done / $cpu, $rcpts, Sisimai->version;
