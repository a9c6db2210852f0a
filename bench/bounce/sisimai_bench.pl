#!/usr/bin/perl
# Sisimai (libsisimai-perl) over the same emails, held in memory, parsed
# round-robin for about SECONDS: Sisimai::Message->new then
# Sisimai::Data->make (what Sisimai->make does per email, without the
# file reading). Prints "sisimai: N emails in S s = R emails/s".
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
printf "sisimai: %d emails in %.2f s = %.0f emails/s (%d records, Sisimai %s)\n",
    $done, $t, $done / $t, $rcpts, Sisimai->version;
