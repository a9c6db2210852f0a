#!/usr/bin/perl
# Sisimai's reply-string matching (Sisimai::Reason->match) over the same
# replies, round-robin for about SECONDS: "sisimai: N replies in S s = R/s".
use strict;
use warnings;
use Sisimai::Reason;
use Time::HiRes qw(time);

my ($file, $secs) = @ARGV;
open(my $fh, '<', $file) or die "$file: $!";
my @lines = map { s/\r?\n\z//r } <$fh>;
close $fh;
my ($done, $t0, $t) = (0, time, 0);
my %seen;
do {
    for my $l (@lines) { my $r = Sisimai::Reason->match($l); $seen{$r // ''}++; }
    $done += @lines;
    $t = time - $t0;
} while ($t < $secs);
printf "sisimai: %d replies in %.2f s = %.0f replies/s (Sisimai %s)\n",
    $done, $t, $done / $t, $Sisimai::VERSION // '?';
