# polyops dhcp lab: the DHCP options that send the site's phones to their boot
# server, ftp://192.0.2.10/ (AltiGen guide §7.2-7.3). Made from the site
# file: change the site, not these lines.
#
# Option 160 is a string: the boot server that the phones' factory setting
# asks DHCP for (guide §7.2). The phones log in with the server user and
# password set on each phone (factory default PlcmSpIp / PlcmSpIp); DHCP does
# not carry them.
#
# If option 160 already means something else on this network, set the phones'
# DHCP Menu > Boot Server to Custom and Boot Opt to a free option number, and
# use that number here (guide §7.3, note).
#
# Option 66 (TFTP server name, a string) is for the site's IP6000 phone
# (0004f2000608): in their factory boot-server mode (DHCP Menu > Boot Server:
# Option 66) they ask for option 66, not 160. The guide recommends setting the
# IP6000's server address by hand instead (§7.1-7.2). Option 66 reaches every
# client of the scope that boots by TFTP: where other devices use it, leave it
# out and set the IP6000 by hand.
#
# Run as an administrator on the Windows DHCP server (PowerShell module
# DhcpServer). These lines define option 160 as the guide does (§7.3 steps
# 1-4) and set server-wide values; to set them on the phones' scope only, as
# the guide does (§7.3 step 5), add -ScopeId <scope> to
# Set-DhcpServerv4OptionValue.
if (-not (Get-DhcpServerv4OptionDefinition -OptionId 160 -ErrorAction SilentlyContinue)) {
    Add-DhcpServerv4OptionDefinition -OptionId 160 -Name 'FTP Server IP Address' -Type String -Description 'FTP Server IP Address'
}
Set-DhcpServerv4OptionValue -OptionId 160 -Value '192.0.2.10'
# option 66 (Boot Server Host Name, predefined), for the IP6000
Set-DhcpServerv4OptionValue -OptionId 66 -Value '192.0.2.10'
