"""The template data behind the demo generator: MSP domains, published flows and the problems
engineers bring to the copilot.

Everything here is plain data. Besides the tree a flow publishes, each node carries how engineers
behave at it (which answers they pick, how often an action fails, where they give up), and
that behaviour is what plants the knowledge-gap signals the analysis is meant to find:

* free-text answers at a question that lacks an option (``FreeText``), e.g. printers offline
  "only on the terminal server", Outlook "new Outlook", VPN "GlobalProtect", MFA "new phone";
* actions and scripts that fail unusually often (``fail``), e.g. reinstalling the printer
  driver, resetting the VPN adapter, restarting VSS writers;
* nodes after which sessions are abandoned or escalated (``abandon`` / ``escalate``);
* domains that escalate far more than others (``Domain.give_up``);
* problems no flow covers (``Problem`` without ``flow``) described in paraphrases, where the
  fix follows the answers given (``Improvised.when`` / ``fix``: a drive that asks for credentials
  is re-mapped with saved credentials, not given a Group Policy change), and a
  problem whose volume rises sharply in the last 30 days (SMTP AUTH retirement breaking
  scan-to-email).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeText:
    """Engineers typing an answer at a question instead of picking an option.

    ``answers`` are paraphrases of one missing option, most common first; the copilot then
    carries on at ``next``.
    """

    rate: float
    next: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    id: str
    type: str  # question | action | script | resolution | escalation
    text: str
    options: tuple[tuple[str, str, float], ...] = ()  # (label, next, how often picked)
    next: str | None = None
    script: tuple[str, str] | None = None  # (language, body)
    fail: float = 0.0  # chance an action/script fails
    abandon: float = 0.0  # chance the session stops here, the step never answered
    escalate: float = 0.0  # chance the engineer escalates right after this step
    fix: tuple[str, str | None] | None = None  # (resolution summary, root cause) when it works
    free_text: FreeText | None = None

    def to_json(self) -> dict[str, Any]:
        node: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.options:
            node["options"] = [{"label": label, "next": nxt} for label, nxt, _ in self.options]
        if self.next is not None:
            node["next"] = self.next
        if self.script is not None:
            node["script"] = {"language": self.script[0], "body": self.script[1]}
        return node


def Q(node_id: str, text: str, *options: tuple[str, str, float], **behaviour: Any) -> Node:
    return Node(node_id, "question", text, options=options, **behaviour)


def A(node_id: str, text: str, next: str, **behaviour: Any) -> Node:
    return Node(node_id, "action", text, next=next, **behaviour)


def S(node_id: str, text: str, next: str, language: str, body: str, **behaviour: Any) -> Node:
    return Node(node_id, "script", text, next=next, script=(language, body.strip()), **behaviour)


def R(node_id: str, text: str) -> Node:
    return Node(node_id, "resolution", text)


def E(node_id: str, text: str) -> Node:
    return Node(node_id, "escalation", text)


@dataclass(frozen=True)
class FlowSpec:
    id: str
    name: str
    domain: str
    nodes: tuple[Node, ...]  # the first is the root
    core: bool = False  # published by every account; the others only by some

    def tree(self) -> dict[str, Any]:
        return {"root": self.nodes[0].id, "nodes": {n.id: n.to_json() for n in self.nodes}}


@dataclass(frozen=True)
class Trend:
    """A volume multiplier over the 90 days: 1 until ``days_ago`` before the anchor, then
    ``factor`` (a step) or rising linearly to ``factor`` at the anchor (a ramp)."""

    days_ago: float = 0.0
    factor: float = 1.0
    ramp: bool = False

    def at(self, days_before_anchor: float) -> float:
        if days_before_anchor >= self.days_ago:
            return 1.0
        if not self.ramp:
            return self.factor
        return 1.0 + (self.factor - 1.0) * (1.0 - days_before_anchor / self.days_ago)


FLAT = Trend()


@dataclass(frozen=True)
class Improvised:
    """A step the copilot improvises in a discovery session (no flow, so no node id).

    With ``when``, the step is taken only after one of those answers, as an engineer picks the
    fix for what they were told; with ``fix``, the step is a fix: when it works the session is
    resolved with it and goes no further, when it fails the engineer tries the next step that
    fits (the same answers, still unresolved)."""

    type: str  # question | action | script
    text: str
    options: tuple[tuple[str, float], ...] = ()
    fail: float = 0.0
    include: float = 1.0  # not every session takes every step
    when: tuple[str, ...] = ()  # answers given earlier in the session, one of which this step needs
    fix: tuple[str, str | None] | None = None  # (resolution summary, root cause) when it works


@dataclass(frozen=True)
class Problem:
    """Something users call about. With ``flow``, accounts that publish that flow walk it and
    the others improvise along the same lines (discovery); without, every account improvises."""

    key: str
    domain: str | None
    weight: float
    summaries: tuple[str | None, ...]  # paraphrases, most common first
    flow: str | None = None
    trend: Trend = FLAT
    assisted: float = 0.2  # share of flow-matched sessions where the match is only partial
    free_text: Mapping[str, FreeText] = field(default_factory=lambda: MappingProxyType({}))
    improvised: tuple[Improvised, ...] = ()
    resolutions: tuple[tuple[str, str | None], ...] = ()
    outcomes: tuple[float, float, float] = (0.6, 0.25, 0.15)  # resolved, escalated, abandoned


@dataclass(frozen=True)
class Domain:
    give_up: float  # chance per step that the engineer escalates off the flow
    priorities: tuple[float, float, float, float]  # P1..P4
    board: str  # service | network | security | monitoring | projects


URGENT = (0.10, 0.30, 0.48, 0.12)
NORMAL = (0.03, 0.12, 0.62, 0.23)
LOW = (0.01, 0.05, 0.50, 0.44)

# backup, vpn, server and security escalate far more than identity, printing or m365.
DOMAINS: Mapping[str, Domain] = MappingProxyType({
    "email": Domain(0.020, NORMAL, "service"),
    "printing": Domain(0.015, LOW, "service"),
    "networking": Domain(0.045, URGENT, "network"),
    "identity": Domain(0.008, NORMAL, "service"),
    "backup": Domain(0.110, NORMAL, "monitoring"),
    "endpoint": Domain(0.025, LOW, "service"),
    "vpn": Domain(0.090, URGENT, "network"),
    "m365": Domain(0.015, NORMAL, "service"),
    "security": Domain(0.080, URGENT, "security"),
    "voip": Domain(0.060, URGENT, "network"),
    "hardware": Domain(0.035, LOW, "projects"),
    "server": Domain(0.090, URGENT, "network"),
})
UNKNOWN_DOMAIN = Domain(0.05, NORMAL, "service")

# ---------------------------------------------------------------------------------------------
# Scripts (shared by several flows)
# ---------------------------------------------------------------------------------------------

PS_CLEANUP = r"""
Stop-Service -Name wuauserv -Force
Remove-Item "$env:SystemRoot\SoftwareDistribution\Download\*" -Recurse -Force -ErrorAction SilentlyContinue
Remove-Item "$env:TEMP\*", "$env:SystemRoot\Temp\*" -Recurse -Force -ErrorAction SilentlyContinue
Start-Service -Name wuauserv
Dism.exe /Online /Cleanup-Image /StartComponentCleanup
Get-PSDrive C | Select-Object @{n='FreeGB';e={[math]::Round($_.Free / 1GB, 1)}}
"""

PS_MESSAGE_TRACE = r"""
Connect-ExchangeOnline -ShowBanner:$false
$sender = Read-Host 'Sender address'
Get-MessageTrace -SenderAddress $sender -StartDate (Get-Date).AddHours(-6) -EndDate (Get-Date) |
    Select-Object Received, RecipientAddress, Status, Subject | Format-Table -AutoSize
"""

# ---------------------------------------------------------------------------------------------
# Published flows
# ---------------------------------------------------------------------------------------------

FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec("fl-printing-offline", "Printer shows as offline", "printing", core=True, nodes=(
        Q("q_scope", "Is the printer offline for everyone, or only for one user?",
          ("Everyone", "q_panel", 4), ("Only one user", "s_spooler", 6),
          free_text=FreeText(0.22, "e_print", (
              "Only on the terminal server",
              "Only for users on the RDS server, laptops are fine",
              "Everyone on the RDS host",
              "just the Citrix / remote desktop users",
              "Only when printing from the remote desktop session",
          ))),
        Q("q_panel", "What does the printer's own display show?",
          ("Ready", "a_ip", 5), ("An error or a paper jam", "a_jam", 3),
          ("Nothing, it looks switched off", "a_power", 2)),
        A("a_ip", "Print a configuration page and compare the printer's IP address with the port "
          "on the print server (DHCP may have given it a new one)", "q_ip"),
        Q("q_ip", "Does the printer's IP address match the port on the print server?",
          ("Yes, it matches", "a_driver", 4), ("No, it changed", "a_reserve", 6)),
        A("a_reserve", "Create a DHCP reservation for the printer and point the print server's port "
          "at that address", "q_ok",
          fix=("Reserved the printer's IP in DHCP and fixed the print server port",
               "Printer picked up a new DHCP address")),
        A("a_driver", "Reinstall the printer driver from the print server (vendor universal driver)",
          "q_ok", fail=0.45,
          fix=("Reinstalled the printer driver from the print server", "Corrupt printer driver")),
        A("a_jam", "Clear the jam or error shown on the printer's panel, then power-cycle it", "q_ok",
          fix=("Cleared a paper jam and power-cycled the printer", "Paper jam")),
        A("a_power", "Ask someone on site to check the power cable and switch the printer on", "q_ok",
          abandon=0.25,
          fix=("Printer had been switched off at the wall; switched back on", "Printer powered off")),
        S("s_spooler", "Restart the Print Spooler and clear stuck jobs on the user's PC", "q_ok",
          "powershell", r"""
Stop-Service -Name Spooler -Force
Get-ChildItem "$env:SystemRoot\System32\spool\PRINTERS" -File | Remove-Item -Force
Start-Service -Name Spooler
Get-Printer | Where-Object PrinterStatus -ne 'Normal' | Select-Object Name, PrinterStatus, PortName
""", fail=0.08,
          fix=("Restarted the spooler and cleared the stuck print job",
               "Corrupt job stuck in the local print queue")),
        Q("q_ok", "Does a test page print now?", ("Yes", "r_ok", 8), ("No", "e_print", 2)),
        R("r_ok", "Printer back online and printing"),
        E("e_print", "Escalate to on-site support or the print vendor"),
    )),
    FlowSpec("fl-printing-scan-to-email", "Scan to email fails", "printing", core=True, nodes=(
        Q("q_error", "What does the copier show when the scan fails?",
          ("Cannot connect to the SMTP server", "a_smtp", 4), ("File too large", "a_size", 2),
          ("No error, but the email never arrives", "s_trace", 4),
          free_text=FreeText(0.04, "e_smtp", (
              "535 5.7.139 Authentication unsuccessful",
              "Authentication error 535",
          ))),
        A("a_smtp", "Check the copier's SMTP settings: smtp.office365.com on port 587 with STARTTLS, "
          "or direct send to the tenant's MX endpoint on port 25", "q_test", fail=0.3,
          fix=("Corrected the copier's SMTP server and port", "Wrong SMTP settings after a firmware update")),
        A("a_size", "Lower the scan resolution or switch to compact PDF and scan again", "q_test",
          fix=("Switched the scan profile to compact PDF", "Attachment larger than the mailbox limit")),
        S("s_trace", "Run a message trace for the copier's sender address", "q_trace", "powershell",
          PS_MESSAGE_TRACE),
        Q("q_trace", "What does the message trace show?",
          ("Delivered", "a_junk", 5), ("Failed or quarantined", "a_quarantine", 3),
          ("Nothing found", "a_smtp", 2)),
        A("a_junk", "Check the recipient's Junk folder and add the copier's address to the allowed senders",
          "q_test", fix=("Allowed the copier's sender address; scans were going to Junk",
                         "Scans classified as junk")),
        A("a_quarantine", "Release the scans from quarantine and add a connector for the copier's public IP",
          "q_test", fix=("Released quarantined scans and added an inbound connector for the copier",
                         "Anti-spam policy quarantined the copier's mail")),
        Q("q_test", "Does a test scan arrive now?", ("Yes", "r_ok", 8), ("No", "e_smtp", 2)),
        R("r_ok", "Scan to email working"),
        E("e_smtp", "Escalate to the Microsoft 365 / messaging team"),
    )),
    FlowSpec("fl-email-outlook-not-syncing", "Outlook not receiving new email", "email", core=True, nodes=(
        Q("q_client", "Which Outlook is the user on?",
          ("Classic Outlook for Windows", "q_owa", 6), ("Outlook on the web", "s_trace", 1),
          ("Outlook mobile", "a_mobile", 2),
          free_text=FreeText(0.2, "q_owa", (
              "New Outlook",
              "The new Outlook for Windows",
              "Outlook (new), the toggle is on",
              "new outlook app",
              "The new one with the toggle in the corner",
          ))),
        Q("q_owa", "Are the new emails visible in Outlook on the web?",
          ("Yes, only the desktop app is behind", "q_status", 6),
          ("No, they're missing in OWA too", "s_trace", 4)),
        Q("q_status", "What does Outlook's status bar say?",
          ("Disconnected / Trying to connect", "s_creds", 4), ("Working offline", "a_offline", 2),
          ("Connected, but folders are not up to date", "a_ost", 4)),
        A("a_offline", "Turn off Work Offline on the Send / Receive tab", "q_ok",
          fix=("Turned off Work Offline", "Work Offline had been switched on")),
        S("s_creds", "Close Outlook, clear the cached Office credentials and start it again", "q_ok",
          "powershell", r"""
Get-Process OUTLOOK -ErrorAction SilentlyContinue | Stop-Process -Force
cmdkey /list | Select-String 'MicrosoftOffice' | ForEach-Object {
    $target = ($_.Line -split 'Target: ')[1].Trim()
    cmdkey /delete:$target
}
Start-Process outlook.exe
""", fail=0.1,
          fix=("Cleared cached Office credentials and restarted Outlook", "Stale token after a password change")),
        A("a_ost", "Rebuild the OST: close Outlook, rename the .ost in %LOCALAPPDATA%\\Microsoft\\Outlook "
          "and let Outlook download the mailbox again", "q_ok", fail=0.15, abandon=0.12,
          fix=("Rebuilt the OST file", "Corrupt OST file")),
        S("s_trace", "Run a message trace for one of the missing emails", "q_trace", "powershell",
          PS_MESSAGE_TRACE),
        Q("q_trace", "What does the message trace show?",
          ("Delivered", "a_rules", 5), ("Quarantined", "a_quarantine", 3), ("Nothing found", "e_mail", 2)),
        A("a_rules", "Check the user's inbox rules and the Focused / Other tabs for the missing emails",
          "q_ok", fix=("Removed an inbox rule that moved mail to RSS Feeds", "Inbox rule created by mistake")),
        A("a_quarantine", "Release the emails from quarantine and review the anti-spam policy", "q_ok",
          fix=("Released quarantined mail and allow-listed the sender", "Anti-spam false positive")),
        A("a_mobile", "Remove and re-add the account in Outlook mobile", "q_ok",
          fix=("Re-added the account in Outlook mobile", "Mobile app stuck on an expired session")),
        Q("q_ok", "Is new mail arriving in Outlook now?", ("Yes", "r_ok", 9), ("No", "e_mail", 1)),
        R("r_ok", "Mail is flowing again"),
        E("e_mail", "Escalate to the messaging team"),
    )),
    FlowSpec("fl-email-shared-mailbox", "Shared mailbox missing in Outlook", "email", nodes=(
        Q("q_access", "Can the user open the shared mailbox in Outlook on the web (Open another mailbox)?",
          ("Yes", "q_added", 5), ("No, access denied", "s_perm", 5)),
        S("s_perm", "Grant Full Access (with automapping) and Send As on the shared mailbox", "a_wait",
          "powershell", r"""
Connect-ExchangeOnline -ShowBanner:$false
$mailbox = Read-Host 'Shared mailbox'
$user = Read-Host 'User'
Add-MailboxPermission -Identity $mailbox -User $user -AccessRights FullAccess -AutoMapping $true
Add-RecipientPermission -Identity $mailbox -Trustee $user -AccessRights SendAs -Confirm:$false
""", fix=("Granted Full Access and Send As on the shared mailbox", "User was never given permission")),
        A("a_wait", "Wait up to an hour for automapping, then restart Outlook", "q_ok", abandon=0.15),
        Q("q_added", "Was the mailbox added by automapping or by hand?",
          ("Automapping", "a_remap", 5), ("Added by hand as a second account", "a_remove", 3)),
        A("a_remap", "Remove and re-grant Full Access to refresh automapping", "q_ok",
          fix=("Re-granted Full Access to refresh automapping", "Automapping attribute out of date")),
        A("a_remove", "Remove the hand-added account and rely on automapping", "q_ok",
          fix=("Removed the duplicate hand-added mailbox", "Mailbox added twice")),
        Q("q_ok", "Does the shared mailbox show in the folder pane now?", ("Yes", "r_ok", 8), ("No", "e_mail", 2)),
        R("r_ok", "Shared mailbox visible"),
        E("e_mail", "Escalate to the messaging team"),
    )),
    FlowSpec("fl-networking-no-internet", "No internet at a site or on one device", "networking", core=True, nodes=(
        Q("q_scope", "Is the whole office offline, or just one device?",
          ("The whole office", "a_lights", 4), ("One device", "s_ipconfig", 6)),
        A("a_lights", "Ask someone on site to check the lights on the ISP router and the firewall", "q_wan",
          abandon=0.22),
        Q("q_wan", "Is the firewall's WAN interface up?",
          ("Up, but no traffic passes", "s_probe", 4), ("Down", "a_isp", 6)),
        S("s_probe", "Run the connectivity check from the site's monitoring probe", "a_dns", "bash", r"""
#!/usr/bin/env bash
set -u
gw=$(ip route | awk '/^default/ {print $3; exit}')
ping -c 4 "$gw"
ping -c 4 1.1.1.1
dig +short microsoft.com @1.1.1.1
traceroute -n -m 10 8.8.8.8
"""),
        A("a_isp", "Reboot the ISP router; if the WAN stays down, log a fault with the ISP", "q_ok", fail=0.4,
          escalate=0.15, fix=("Rebooted the ISP router", "ISP router hung")),
        A("a_dns", "Check the firewall's DNS forwarders and default route; fail over to the backup WAN "
          "if one is configured", "q_ok",
          fix=("Fixed the firewall's DNS forwarders", "Upstream DNS server unreachable")),
        S("s_ipconfig", "Collect the IP configuration and test the gateway and DNS", "q_result", "powershell", r"""
ipconfig /all
$gw = (Get-NetRoute -DestinationPrefix '0.0.0.0/0' | Sort-Object RouteMetric | Select-Object -First 1).NextHop
Test-NetConnection -ComputerName $gw
Resolve-DnsName microsoft.com -ErrorAction SilentlyContinue
Test-NetConnection -ComputerName 1.1.1.1 -Port 443
"""),
        Q("q_result", "What does the test show?",
          ("No IP address (169.254.x.x)", "a_dhcp", 4), ("Gateway reachable, DNS fails", "s_dns", 3),
          ("Everything passes", "a_proxy", 3)),
        A("a_dhcp", "Check the switch port or Wi-Fi, and the DHCP scope for free leases", "q_ok",
          fix=("Freed leases in the exhausted DHCP scope", "DHCP scope exhausted")),
        S("s_dns", "Reset the DNS client cache and Winsock, then restart", "q_ok", "powershell", r"""
Clear-DnsClientCache
netsh winsock reset
netsh int ip reset
Restart-Computer -Force
""", fix=("Reset the DNS cache and Winsock", "Corrupt Winsock catalogue")),
        A("a_proxy", "Check for a stale proxy setting or a VPN client holding the default route", "q_ok",
          fix=("Removed a stale proxy setting", "Proxy left behind by an old security agent")),
        Q("q_ok", "Is the internet back?", ("Yes", "r_ok", 8), ("No", "e_net", 2)),
        R("r_ok", "Connectivity restored"),
        E("e_net", "Escalate to Network Ops"),
    )),
    FlowSpec("fl-networking-wifi-drops", "Wi-Fi keeps dropping", "networking", nodes=(
        Q("q_where", "Does it happen everywhere in the office, or in one area?",
          ("One area or meeting room", "a_ap", 4), ("Everywhere, one laptop", "s_driver", 6),
          ("Everywhere, all devices", "a_controller", 3)),
        S("s_driver", "Check the Wi-Fi adapter's driver and produce a WLAN report", "q_ok", "powershell", r"""
Get-NetAdapter -Physical | Where-Object InterfaceDescription -match 'Wi-?Fi|Wireless|802\.11' |
    Select-Object Name, InterfaceDescription, DriverVersion, DriverDate
netsh wlan show interfaces
netsh wlan show wlanreport
""", fix=("Updated the Wi-Fi adapter driver", "Outdated Wi-Fi driver")),
        A("a_ap", "Check that area's access point in the controller: channel utilisation, clients, uptime",
          "q_ok", escalate=0.2, fix=("Moved the access point to a less congested channel", "Channel congestion")),
        A("a_controller", "Check the wireless controller or cloud dashboard for AP reboots or a firmware upgrade",
          "q_ok", fix=("Rolled back the access point firmware", "Faulty AP firmware upgrade")),
        Q("q_ok", "Is the connection stable now?",
          ("Yes", "r_ok", 6), ("Not sure yet, monitoring", "r_monitor", 2), ("No", "e_net", 3)),
        R("r_ok", "Wi-Fi stable"),
        R("r_monitor", "Stable for now; monitoring with the user"),
        E("e_net", "Escalate to Network Ops"),
    )),
    FlowSpec("fl-identity-account-locked", "User account locked out", "identity", core=True, nodes=(
        Q("q_where", "Where is the account locked: on-premises AD or Entra ID (Microsoft 365)?",
          ("On-premises AD", "s_lockout", 6), ("Entra ID / Microsoft 365", "a_entra", 4),
          ("Not sure", "s_lockout", 2)),
        S("s_lockout", "Find the lockout source on the PDC emulator and unlock the account", "q_source",
          "powershell", r"""
Import-Module ActiveDirectory
$user = Read-Host 'sAMAccountName'
$pdc = (Get-ADDomain).PDCEmulator
Get-WinEvent -ComputerName $pdc -FilterHashtable @{LogName='Security'; Id=4740} -MaxEvents 100 |
    Where-Object { $_.Properties[0].Value -eq $user } |
    Select-Object TimeCreated, @{n='Source';e={$_.Properties[1].Value}}
Unlock-ADAccount -Identity $user
"""),
        Q("q_source", "What is the lockout source?",
          ("The user's own PC", "a_creds", 4), ("A phone or tablet (ActiveSync)", "a_phone", 4),
          ("A server or an unknown device", "e_sec", 0.6)),
        A("a_creds", "Clear stored credentials in Credential Manager and reset the password", "q_ok",
          fix=("Cleared stale credentials and reset the password", "Old password cached in Credential Manager")),
        A("a_phone", "Update the password in the mail app on the user's phone", "q_ok",
          fix=("Updated the password on the user's phone", "Phone retrying an old password")),
        A("a_entra", "Check the Entra ID sign-in logs, then unlock and reset the password in the admin center",
          "q_ok", fix=("Reset the password in Entra ID", "Smart lockout after repeated failed sign-ins")),
        Q("q_ok", "Can the user sign in now?", ("Yes", "r_ok", 19), ("No", "e_sec", 1)),
        R("r_ok", "User can sign in"),
        E("e_sec", "Escalate to the security team: possible password spray"),
    )),
    FlowSpec("fl-identity-mfa-reset", "MFA prompts not working", "identity", nodes=(
        Q("q_method", "What is the user's MFA method?",
          ("Microsoft Authenticator push", "q_prompt", 5), ("SMS or phone call", "a_number", 3),
          ("Hardware token", "e_id", 0.5),
          free_text=FreeText(0.24, "a_verify", (
              "New phone, the old one was wiped",
              "Got a new phone and didn't move Authenticator over",
              "Lost their phone",
              "replaced phone at the weekend",
              "Phone was stolen",
          ))),
        Q("q_prompt", "Does the Authenticator prompt arrive on the phone?",
          ("No prompt arrives", "a_verify", 5), ("It arrives but the number match fails", "a_time", 2),
          ("It loops after approving", "a_verify", 3)),
        A("a_verify", "Verify the user's identity by calling back on the number held by HR before changing MFA",
          "s_revoke", abandon=0.1),
        S("s_revoke", "Remove the old Authenticator registration and revoke sessions so the user re-registers",
          "q_ok", "powershell", r"""
Connect-MgGraph -Scopes 'UserAuthenticationMethod.ReadWrite.All', 'User.ReadWrite.All'
$upn = Read-Host 'User principal name'
Get-MgUserAuthenticationMicrosoftAuthenticatorMethod -UserId $upn | ForEach-Object {
    Remove-MgUserAuthenticationMicrosoftAuthenticatorMethod -UserId $upn -MicrosoftAuthenticatorAuthenticationMethodId $_.Id
}
Revoke-MgUserSignInSession -UserId $upn
""", fail=0.12,
          fix=("Removed the old Authenticator registration; the user re-registered",
               "Authenticator registered to a replaced phone")),
        A("a_time", "Set the phone's date and time to automatic and update the Authenticator app", "q_ok",
          fix=("Fixed the phone's clock and updated Authenticator", "Phone clock drift")),
        A("a_number", "Update the user's authentication phone number in Entra ID", "q_ok",
          fix=("Updated the authentication phone number", "User changed mobile number")),
        Q("q_ok", "Has the user completed an MFA sign-in?", ("Yes", "r_ok", 9), ("No", "e_id", 1)),
        R("r_ok", "MFA working"),
        E("e_id", "Escalate to the identity team"),
    )),
    FlowSpec("fl-backup-job-failed", "Backup job failed", "backup", nodes=(
        Q("q_product", "Which backup product raised the alert?",
          ("Veeam", "q_error", 5), ("Datto", "a_datto", 3), ("Acronis", "q_error", 2),
          free_text=FreeText(0.18, "q_error", (
              "N-able Cove",
              "Cove Data Protection",
              "it's Cove",
              "Cove backup manager",
          ))),
        Q("q_error", "What does the job log say?",
          ("VSS / snapshot error", "s_vss", 5), ("Target storage full", "s_repo", 3),
          ("Cannot reach the repository", "a_repo", 2)),
        S("s_vss", "List the VSS writers and restart the services behind failed ones", "a_rerun", "powershell", r"""
vssadmin list writers | Select-String -Pattern 'Writer name|State|Last error'
Restart-Service -Name VSS -Force
Restart-Service -Name SQLWriter -Force -ErrorAction SilentlyContinue
vssadmin list shadowstorage
""", fail=0.55, fix=("Restarted the failed VSS writers and re-ran the job", "VSS writer in a failed state")),
        S("s_repo", "Check free space and disk health on the repository NAS", "a_space", "bash", r"""
#!/usr/bin/env bash
df -h /volume1
for disk in /dev/sd?; do sudo smartctl -H "$disk"; done
ls -lt /volume1/backups | head -n 20
"""),
        A("a_space", "Apply retention or delete old restore points on the repository to free space", "a_rerun",
          fix=("Freed space on the backup repository", "Repository full after a retention change")),
        A("a_repo", "Check the repository is reachable and the backup service account's password has not expired",
          "a_rerun", fail=0.35, fix=("Updated the backup service account's password", "Service account password expired")),
        A("a_datto", "Check the agent on the Datto portal and restart the Datto backup agent service", "a_rerun",
          fix=("Restarted the Datto agent service", "Agent service stopped after an update")),
        A("a_rerun", "Run the backup job again by hand", "q_ok", fail=0.25, abandon=0.1),
        Q("q_ok", "Did the job complete?",
          ("Yes", "r_ok", 6), ("Completed with warnings", "r_warn", 2), ("No", "e_backup", 3)),
        R("r_ok", "Backup completed"),
        R("r_warn", "Completed with warnings; watching the next scheduled run"),
        E("e_backup", "Escalate to the backup / infrastructure team"),
    )),
    FlowSpec("fl-endpoint-slow-pc", "Computer running slowly", "endpoint", core=True, nodes=(
        Q("q_since", "When did the slowness start?",
          ("After a Windows update", "s_health", 3), ("Gradually over weeks", "s_health", 4),
          ("Only when one app is open", "a_app", 3)),
        S("s_health", "Take a health snapshot: uptime, top processes, disk space and disk type", "q_cause",
          "powershell", r"""
Get-CimInstance Win32_OperatingSystem | Select-Object LastBootUpTime, FreePhysicalMemory
Get-Process | Sort-Object CPU -Descending | Select-Object -First 10 Name, CPU, WorkingSet64
Get-PSDrive -PSProvider FileSystem | Select-Object Name, Used, Free
Get-PhysicalDisk | Select-Object FriendlyName, MediaType, HealthStatus
"""),
        Q("q_cause", "What stands out?",
          ("Not restarted in weeks", "a_reboot", 4), ("Disk almost full", "s_cleanup", 3),
          ("One process using a lot of CPU", "a_app", 3), ("It has a spinning hard disk", "e_hw", 1)),
        A("a_reboot", "Restart the PC and install pending updates", "q_ok",
          fix=("Restarted and installed pending updates", "Weeks of uptime with updates pending")),
        S("s_cleanup", "Clean temp files and the Windows Update cache", "q_ok", "powershell", PS_CLEANUP,
          fail=0.1, fix=("Cleared temp files and the Windows Update cache", "System disk nearly full")),
        A("a_app", "Update or repair the offending application and disable unneeded add-ins", "q_ok",
          fix=("Repaired the application and disabled a heavy add-in", "Faulty add-in")),
        Q("q_ok", "Is the PC responsive now?", ("Yes", "r_ok", 8), ("No", "e_hw", 2)),
        R("r_ok", "PC performance back to normal"),
        E("e_hw", "Escalate: quote for hardware replacement or an SSD / RAM upgrade"),
    )),
    FlowSpec("fl-endpoint-disk-full", "C: drive full", "endpoint", nodes=(
        S("s_usage", "Show the largest folders on C:", "q_what", "powershell", r"""
Get-ChildItem C:\ -Directory -Force -ErrorAction SilentlyContinue | ForEach-Object {
    $size = (Get-ChildItem $_.FullName -Recurse -File -Force -ErrorAction SilentlyContinue |
        Measure-Object Length -Sum).Sum
    [pscustomobject]@{ Folder = $_.FullName; GB = [math]::Round($size / 1GB, 1) }
} | Sort-Object GB -Descending | Select-Object -First 10
"""),
        Q("q_what", "What is using the space?",
          ("Windows Update and temp files", "s_cleanup", 5), ("The user's OneDrive or Downloads", "a_onedrive", 3),
          ("Outlook data files", "a_ost", 2)),
        S("s_cleanup", "Clean temp files and the Windows Update cache", "q_ok", "powershell", PS_CLEANUP,
          fail=0.1, fix=("Cleared temp files and the Windows Update cache", "Windows Update cache filled the disk")),
        A("a_onedrive", "Turn on OneDrive Files On-Demand and free up space in synced folders", "q_ok",
          fix=("Enabled Files On-Demand and freed synced files", "OneDrive keeping every file local")),
        A("a_ost", "Set Outlook's cached mode to 6 months and compact the OST", "q_ok",
          fix=("Reduced Outlook's cached mode window", "Oversized OST")),
        Q("q_ok", "Is more than 15% of the disk free now?", ("Yes", "r_ok", 8), ("No", "e_hw", 2)),
        R("r_ok", "Disk space recovered"),
        E("e_hw", "Escalate: larger disk or replacement laptop"),
    )),
    FlowSpec("fl-vpn-cannot-connect", "VPN will not connect", "vpn", nodes=(
        Q("q_client", "Which VPN client is it?",
          ("FortiClient", "q_error", 5), ("SonicWall NetExtender", "q_error", 3),
          ("Cisco Secure Client (AnyConnect)", "q_error", 2),
          free_text=FreeText(0.25, "q_error", (
              "GlobalProtect",
              "Palo Alto GlobalProtect",
              "GP client",
              "it's GlobalProtect on the new firewall",
          ))),
        Q("q_error", "What happens when the user connects?",
          ("Credentials rejected", "a_creds", 4), ("Stuck at 40% or times out", "s_adapter", 4),
          ("Connects but cannot reach the file server", "a_split", 2)),
        A("a_creds", "Check the user is in the VPN group and their password and MFA work on the portal", "q_ok",
          fix=("Added the user to the VPN group", "User missing from the VPN group")),
        S("s_adapter", "Reset the VPN virtual adapter and the network stack", "a_cert", "powershell", r"""
Get-NetAdapter | Where-Object InterfaceDescription -match 'Fortinet|SonicWall|AnyConnect|PANGP' |
    Restart-NetAdapter -Confirm:$false
ipconfig /flushdns
netsh winsock reset
""", fail=0.5),
        A("a_cert", "Check the firewall's SSL-VPN certificate and the client's trusted root for expiry", "q_ok",
          escalate=0.3, fix=("Renewed the SSL-VPN certificate", "Expired SSL-VPN certificate")),
        A("a_split", "Check the split-tunnel routes include the file server's subnet", "q_ok",
          fix=("Added the file server subnet to the split tunnel", "Split-tunnel route missing")),
        Q("q_ok", "Does the VPN connect and reach the file server?", ("Yes", "r_ok", 6), ("No", "e_net", 4)),
        R("r_ok", "VPN connected"),
        E("e_net", "Escalate to Network Ops (firewall)"),
    )),
    FlowSpec("fl-m365-unlicensed-product", "Office shows Unlicensed Product", "m365", core=True, nodes=(
        Q("q_banner", "What does the banner in Word or Excel say?",
          ("Unlicensed Product", "q_licence", 5), ("Account error, sign in again", "s_reset", 3),
          ("Product deactivated", "q_licence", 2)),
        Q("q_licence", "Does the user have a licence with Microsoft 365 Apps assigned?",
          ("Yes", "s_reset", 6), ("No", "a_assign", 4)),
        A("a_assign", "Assign a licence that includes Microsoft 365 Apps and check spare licence counts", "q_ok",
          fail=0.15, fix=("Assigned a Microsoft 365 licence", "Licence removed when the user changed role")),
        S("s_reset", "Reset Office's activation state (cached licences and identities)", "q_ok", "powershell", r"""
Get-Process WINWORD, EXCEL, OUTLOOK, POWERPNT, ONENOTE -ErrorAction SilentlyContinue | Stop-Process -Force
Remove-Item "$env:LOCALAPPDATA\Microsoft\Office\Licenses" -Recurse -Force -ErrorAction SilentlyContinue
Remove-Item 'HKCU:\Software\Microsoft\Office\16.0\Common\Identity' -Recurse -Force -ErrorAction SilentlyContinue
Write-Output 'Office licence cache cleared; open Word and sign in again.'
""", fail=0.4, fix=("Reset Office activation and signed in again", "Stale cached licence")),
        Q("q_ok", "Does Office show as activated after signing in?", ("Yes", "r_ok", 9), ("No", "e_lic", 1)),
        R("r_ok", "Office activated"),
        E("e_lic", "Escalate to licensing / open a Microsoft support case"),
    )),
    FlowSpec("fl-security-phishing-report", "User clicked a phishing link", "security", core=True, nodes=(
        Q("q_action", "What did the user do?",
          ("Only clicked the link", "s_scan", 4), ("Entered their password", "s_revoke", 4),
          ("Opened an attachment", "a_isolate", 2)),
        S("s_scan", "Update signatures and run a full Defender scan", "a_purge", "powershell", r"""
Update-MpSignature
Start-MpScan -ScanType FullScan
Get-MpThreatDetection | Select-Object InitialDetectionTime, ThreatID, ActionSuccess
"""),
        S("s_revoke", "Reset the password, revoke sessions and look for new inbox rules", "q_rules", "powershell", r"""
Connect-MgGraph -Scopes 'User.ReadWrite.All'
Connect-ExchangeOnline -ShowBanner:$false
$upn = Read-Host 'User principal name'
Revoke-MgUserSignInSession -UserId $upn
Get-InboxRule -Mailbox $upn | Where-Object { $_.ForwardTo -or $_.RedirectTo -or $_.DeleteMessage } |
    Select-Object Name, ForwardTo, RedirectTo, DeleteMessage
""", fix=("Reset the password and revoked sessions", "Credentials entered on a phishing page")),
        Q("q_rules", "Were there suspicious inbox rules or sign-ins from unknown locations?",
          ("No", "a_purge", 6), ("Yes", "e_sec", 4)),
        A("a_isolate", "Isolate the device in Defender for Endpoint", "e_sec"),
        A("a_purge", "Purge the phishing email from all mailboxes with a content search and block the sender",
          "r_ok", fix=("Purged the phishing email tenant-wide and blocked the sender", "Phishing email")),
        R("r_ok", "Contained: no sign of compromise"),
        E("e_sec", "Escalate to the security team (possible compromise)"),
    )),
    FlowSpec("fl-voip-phone-not-registering", "Desk phone shows No Service", "voip", nodes=(
        Q("q_all", "Is it one phone or every phone at the site?",
          ("One phone", "a_reboot", 6), ("Every phone", "s_pbx", 4)),
        A("a_reboot", "Unplug the phone's network cable for 10 seconds and check it gets an address on the voice VLAN",
          "q_ok", fix=("Re-seated the phone's cable; it re-registered", "Phone lost its registration")),
        S("s_pbx", "Check trunk and endpoint registrations on the PBX", "a_sip", "bash", r"""
#!/usr/bin/env bash
asterisk -rx 'pjsip show registrations'
asterisk -rx 'pjsip show contacts' | grep -c Avail
tail -n 200 /var/log/asterisk/full | grep -i 'registration'
"""),
        A("a_sip", "Check SIP ALG is off on the firewall and the trunk is registered in the hosted PBX portal",
          "q_ok", escalate=0.15, fix=("Disabled SIP ALG on the firewall", "SIP ALG re-enabled by a firmware update")),
        Q("q_ok", "Do the phones register now?", ("Yes", "r_ok", 7), ("No", "e_voice", 3)),
        R("r_ok", "Phones registered"),
        E("e_voice", "Escalate to the VoIP provider"),
    )),
    FlowSpec("fl-hardware-dock-monitors", "External monitors not detected on the dock", "hardware", nodes=(
        Q("q_dock", "Which dock is it?",
          ("Dell WD19 / WD22", "a_firmware", 5), ("HP USB-C / Thunderbolt dock", "a_firmware", 3),
          ("Lenovo ThinkPad dock", "a_firmware", 2),
          free_text=FreeText(0.12, "a_cable", (
              "A generic USB-C hub",
              "cheap USB-C hub from Amazon",
              "Anker USB-C hub",
          ))),
        A("a_firmware", "Update the dock's firmware and the laptop's Thunderbolt and graphics drivers", "q_ok",
          fail=0.2, abandon=0.2, fix=("Updated the dock firmware and graphics driver", "Outdated dock firmware")),
        Q("q_ok", "Do both monitors work now?",
          ("Yes", "r_ok", 6), ("Only one of them", "a_cable", 3), ("No", "e_hw", 2)),
        A("a_cable", "Swap the monitor cables (DisplayPort rather than HDMI) and check Display settings", "q_final",
          fix=("Swapped to DisplayPort cables", "HDMI cable not carrying the signal through the dock")),
        Q("q_final", "Do both monitors work now?", ("Yes", "r_ok", 7), ("No", "e_hw", 3)),
        R("r_ok", "Both monitors working"),
        E("e_hw", "Escalate: replace the dock"),
    )),
)

FLOW_BY_ID: Mapping[str, FlowSpec] = MappingProxyType({f.id: f for f in FLOWS})

# ---------------------------------------------------------------------------------------------
# Problems: what comes in, how often, and how it is described
# ---------------------------------------------------------------------------------------------

_DRIVE_LATE = "Yes, after a few seconds"
_DRIVE_CREDENTIALS = "No, it asks for credentials"
_DRIVE_NOT_FOUND = "No, path not found"
_DUPLICATE_MAP = ("Removed the duplicate mapping from the logon script", "Logon script and GPO both mapping S:")
# The fix follows what the engineer saw: a drive that comes back when clicked was mapped before
# the network was up; a credentials prompt means stale saved credentials; "path not found" a
# second mapping of the same letter (also where the network wait did not help).
_MAPPED_DRIVE = (
    Improvised("script", "List the mapped drives and test SMB to the file server (net use; Test-NetConnection -Port 445)"),
    Improvised("question", "Does the drive reconnect when the user clicks it in File Explorer?",
               ((_DRIVE_LATE, 5), (_DRIVE_CREDENTIALS, 3), (_DRIVE_NOT_FOUND, 2))),
    Improvised("action", "Set the GPO drive map to Replace and enable 'Always wait for the network at computer "
               "startup and logon'", fail=0.25, when=(_DRIVE_LATE,),
               fix=("Enabled 'Always wait for the network' and set the drive map to Replace",
                    "Drive mapped before the network was ready at logon")),
    Improvised("action", "Re-map the drive with the server's FQDN and save the credentials in Credential Manager",
               when=(_DRIVE_CREDENTIALS,),
               fix=("Re-mapped the drive with the server's FQDN and saved credentials",
                    "Drive mapped by IP with stale credentials")),
    Improvised("action", "Remove the second mapping of the drive letter from the logon script",
               when=(_DRIVE_LATE, _DRIVE_NOT_FOUND), fix=_DUPLICATE_MAP),
)

_ONEDRIVE_PENDING = "Sync pending"
_ONEDRIVE_ERROR = "Red cross / sync error"
_ONEDRIVE_PAUSED = "Paused"
# A client stuck on pending changes is reset; a sync error (or a reset that did not help) is
# usually a file OneDrive cannot take; a paused client only needs resuming.
_ONEDRIVE = (
    Improvised("question", "What does the OneDrive icon show?",
               ((_ONEDRIVE_PENDING, 5), (_ONEDRIVE_ERROR, 3), (_ONEDRIVE_PAUSED, 2))),
    Improvised("action", "Resume syncing from the OneDrive icon", when=(_ONEDRIVE_PAUSED,),
               fix=("Resumed syncing in OneDrive", "Sync paused by the user or battery saver")),
    Improvised("script", "Reset the OneDrive client (onedrive.exe /reset)", fail=0.3, when=(_ONEDRIVE_PENDING,),
               fix=("Reset OneDrive and let it resync", "OneDrive client stuck")),
    Improvised("action", "Rename files with invalid characters or paths over 400 characters",
               when=(_ONEDRIVE_PENDING, _ONEDRIVE_ERROR),
               fix=("Renamed files with invalid characters", "Invalid file names blocked sync")),
)

_AUDIO_OUT = "The other party can't hear us"
_AUDIO_IN = "We can't hear the other party"
# SIP ALG rewriting the SDP is the usual cause, so it goes first; when turning it off did not
# help, which way the audio is lost says where it stops: our voice leaves with the phone
# system's NAT address, theirs comes in through the firewall's RTP rules.
_ONE_WAY_AUDIO = (
    Improvised("action", "Turn off SIP ALG on the firewall and restart the phones", fail=0.3,
               fix=("Turned off SIP ALG on the firewall", "SIP ALG rewriting the SDP")),
    Improvised("question", "Which way is the audio missing?", ((_AUDIO_OUT, 5), (_AUDIO_IN, 4))),
    Improvised("action", "Set the phone system's external NAT address to the site's public IP",
               when=(_AUDIO_OUT,),
               fix=("Corrected the phone system's external NAT address", "Wrong public IP in the NAT settings")),
    Improvised("action", "Allow the provider's RTP port range inbound on the firewall", when=(_AUDIO_IN,),
               fix=("Allowed the provider's RTP range inbound", "Inbound RTP blocked on the firewall")),
)

PROBLEMS: tuple[Problem, ...] = (
    # --- problems with a published flow (in the accounts that publish it) ---
    Problem("printing-offline", "printing", 8, flow="fl-printing-offline", summaries=(
        "Printer showing offline", "Can't print, printer says offline", "Printer offline for user",
        "Reception printer offline again", "HP printer not printing, status offline")),
    Problem("printing-scan-to-email", "printing", 2, flow="fl-printing-scan-to-email", summaries=(
        "Scan to email not working", "Scans not arriving by email", "Copier won't send scans",
        "Scan to email from the MFP fails")),
    Problem("email-outlook-not-syncing", "email", 9, flow="fl-email-outlook-not-syncing", summaries=(
        "Outlook not receiving new emails", "Emails not coming into Outlook", "Outlook stuck, no new mail",
        "Inbox not updating in Outlook", "User missing emails in Outlook since this morning")),
    Problem("email-shared-mailbox", "email", 4, flow="fl-email-shared-mailbox", summaries=(
        "Shared mailbox missing from Outlook", "Can't see the accounts@ mailbox",
        "Shared inbox disappeared from Outlook", "Needs access to the shared mailbox")),
    Problem("networking-no-internet", "networking", 6, flow="fl-networking-no-internet", summaries=(
        "No internet", "Office has no internet", "User can't get online", "Internet down at the branch",
        "PC says no internet access")),
    Problem("networking-wifi-drops", "networking", 4, flow="fl-networking-wifi-drops", summaries=(
        "Wi-Fi keeps dropping", "Wireless disconnects every few minutes", "Laptop losing Wi-Fi",
        "Wi-Fi unstable in the meeting room")),
    Problem("identity-account-locked", "identity", 10, flow="fl-identity-account-locked", summaries=(
        "Account locked out", "User locked out again", "Can't log in, account locked",
        "Locked out after password change", "Password reset and unlock")),
    Problem("identity-mfa-reset", "identity", 5, flow="fl-identity-mfa-reset", summaries=(
        "MFA not working", "Not getting Authenticator prompts", "Needs MFA reset",
        "MFA prompt not arriving on phone")),
    Problem("backup-job-failed", "backup", 4, flow="fl-backup-job-failed", summaries=(
        "Backup job failed", "Backup alert: job failed overnight", "Nightly backup failed",
        "Backup failed with errors")),
    Problem("endpoint-slow-pc", "endpoint", 7, flow="fl-endpoint-slow-pc", summaries=(
        "PC running slow", "Laptop very slow", "Computer slow to start", "Everything takes ages to open")),
    Problem("endpoint-disk-full", "endpoint", 3, flow="fl-endpoint-disk-full", summaries=(
        "C: drive full", "Low disk space warning", "Disk full, can't save files", "RMM alert: C: below 5% free")),
    Problem("vpn-cannot-connect", "vpn", 5, flow="fl-vpn-cannot-connect",
            trend=Trend(days_ago=40, factor=0.35), summaries=(  # fewer since the firewall fix
                "VPN won't connect", "Can't connect to VPN from home", "VPN stuck connecting",
                "Remote user can't reach the file server over VPN")),
    Problem("m365-unlicensed-product", "m365", 4, flow="fl-m365-unlicensed-product", summaries=(
        "Office says unlicensed product", "Word showing unlicensed", "Office activation error",
        "Excel in reduced functionality mode")),
    Problem("security-phishing-report", "security", 3, flow="fl-security-phishing-report", summaries=(
        "User clicked a phishing link", "Suspicious email clicked", "Possible phishing, user entered password",
        "Phishing email reported by user")),
    Problem("voip-phone-not-registering", "voip", 2, flow="fl-voip-phone-not-registering", summaries=(
        "Desk phone says No Service", "Phone not registered", "Yealink phone offline",
        "Phones down at the site")),
    Problem("hardware-dock-monitors", "hardware", 4, flow="fl-hardware-dock-monitors", summaries=(
        "Monitors not working on dock", "Second screen not detected", "Dock not showing displays",
        "External monitors black after docking")),
    # --- the rising problem: Microsoft's retirement of SMTP AUTH basic auth breaks copiers ---
    Problem("printing-scan-smtp-auth", "printing", 0.3, flow="fl-printing-scan-to-email",
            trend=Trend(days_ago=30, factor=20.0, ramp=True), assisted=0.7,
            free_text=MappingProxyType({"q_error": FreeText(0.75, "e_smtp", (
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled",
                "Error 535 5.7.139 basic auth disabled",
                "Copier says authentication failed since Microsoft switched off basic auth",
                "SMTP AUTH error 535 on the copier",
            ))}),
            summaries=(
                "Scan to email stopped working on the copier", "Copier can't send scans, authentication error",
                "MFP scan to email broken, error 535", "Scanner emails failing after the Microsoft basic auth change")),
    # --- recurring problems no flow covers ---
    Problem("server-mapped-drive", "server", 4, improvised=_MAPPED_DRIVE, summaries=(
        "Mapped drive disconnects after reboot", "S: drive shows a red X at login",
        "Network drive not reconnecting after restart", "Shared drive missing until the user clicks it",
        "Mapped S: drive says unavailable every morning", "Drive mappings lost after Windows update"),
        outcomes=(0.62, 0.23, 0.15)),
    Problem("server-file-share-slow", "server", 1.5, improvised=(
        Improvised("question", "Is it slow for everyone or only some users?",
                   (("Everyone", 5), ("Only remote users", 3), ("One user", 2))),
        Improvised("script", "Check the file server's CPU, memory and disk queue length"),
        Improvised("action", "Check for a running backup, antivirus scan or DFS replication backlog", fail=0.3),
    ), summaries=(
        "File server very slow", "Excel files take ages to open from the S: drive",
        "Saving to the shared drive is slow", "Network share slow to browse"),
        resolutions=(
            ("Moved the antivirus full scan out of business hours", "Scheduled scan during the day"),
            ("Cleared a DFS replication backlog", "DFS backlog after a server restart"),
        ), outcomes=(0.45, 0.42, 0.13)),
    Problem("voip-one-way-audio", "voip", 2, improvised=_ONE_WAY_AUDIO, summaries=(
        "One-way audio on calls", "Caller can't hear us", "Calls connect but no audio from the other side",
        "Desk phone audio only works one way"),
        outcomes=(0.62, 0.25, 0.13)),
    Problem("endpoint-hello-pin", "endpoint", 2, improvised=(
        Improvised("question", "What does the sign-in screen say?",
                   (("Something happened and your PIN isn't available", 6), ("PIN option missing", 3))),
        Improvised("script", "Reset the NGC folder so Windows Hello can be set up again"),
        Improvised("action", "Sign in with the password and set up the PIN again", fail=0.15),
    ), summaries=(
        "Windows Hello PIN not available", "PIN isn't available, something happened",
        "Can't sign in with PIN", "Hello PIN stopped working after update"),
        resolutions=(("Reset the NGC folder and re-enrolled the PIN", "Corrupt Windows Hello container"),),
        outcomes=(0.78, 0.1, 0.12)),
    Problem("m365-onedrive-sync", "m365", 3, improvised=_ONEDRIVE, summaries=(
        "OneDrive not syncing", "OneDrive stuck on processing changes", "Files not syncing to SharePoint",
        "OneDrive sync pending for days"),
        outcomes=(0.7, 0.15, 0.15)),
)

# Uncommon one-offs: (domain or None, summary, resolution, root cause). None means the copilot
# could not tell the domain.
ONE_OFFS: tuple[tuple[str | None, str, str, str | None], ...] = (
    ("hardware", "Boardroom TV won't mirror from a MacBook", "Updated the AirPlay receiver firmware", None),
    ("printing", "Label printer prints blank labels", "Recalibrated the label printer", "Label size mis-set"),
    ("hardware", "Receipt printer in reception beeps constantly", "Replaced the paper roll sensor", "Faulty sensor"),
    ("hardware", "Laptop fan loud since BIOS update", "Reset the fan profile in the BIOS", "BIOS update reset settings"),
    ("hardware", "Webcam image upside down in Teams", "Installed the vendor camera driver", "Generic driver"),
    ("endpoint", "Excel macro throws runtime error 1004", "Trusted the macro's network location", "Macro blocked by policy"),
    ("endpoint", "Adobe Acrobat keeps asking to sign in", "Cleared Acrobat's cached credentials", None),
    ("endpoint", "AutoCAD licence not found", "Re-activated the AutoCAD named-user licence", "Licence reassigned"),
    ("endpoint", "Chrome extension blocked by policy for marketing", "Allow-listed the extension", "Policy too strict"),
    (None, "Sage 50 says company file in use", "Cleared the stale lock file on the server", "Stale lock file"),
    (None, "Xero bank feed not updating", "Re-authorised the bank connection", "Bank token expired"),
    (None, "QuickBooks database server manager won't start", "Repaired the QuickBooks install", None),
    ("networking", "Guest Wi-Fi captive portal not showing", "Restarted the guest portal service", None),
    ("networking", "Smart thermostat can't join the IoT VLAN", "Enabled 2.4 GHz on the IoT SSID", "5 GHz only SSID"),
    ("networking", "New starter's MacBook can't see the office NAS", "Enabled SMB3 on the NAS", "SMB1 only"),
    ("email", "Out-of-office not sent to external senders", "Enabled external replies", "External OOF off"),
    ("email", "Supplier invites arrive as winmail.dat", "Set the remote domain to HTML", "TNEF to external domain"),
    ("email", "Distribution list rejects emails from outside", "Allowed external senders on the list", None),
    ("security", "USB stick blocked for the auditor", "Granted a temporary device control exception", "Device control policy"),
    ("security", "Certificate warning on the intranet site", "Renewed the intranet certificate", "Expired certificate"),
    ("m365", "Teams meeting recordings missing", "Found them in the organiser's OneDrive", None),
    ("m365", "SharePoint site asks guests to verify every time", "Adjusted the guest session policy", None),
    ("server", "Scheduled task on the app server stopped running", "Reset the task's run-as password", "Password expired"),
    ("server", "Hyper-V host shows a checkpoint stuck merging", "Merged the checkpoint out of hours", None),
    ("identity", "New starter can't be added to the payroll app SSO", "Assigned the enterprise app", "App not assigned"),
    ("voip", "Teams Phone number shows as unassigned", "Re-assigned the calling plan", None),
    ("backup", "Restore request: deleted folder from last Tuesday", "Restored the folder from backup", "Deleted by user"),
    ("endpoint", "Laptop BitLocker recovery screen after docking", "Supplied the recovery key from Entra ID", "TPM measurement change"),
)

# What the copilot tries for a one-off before it resolves or gives up.
ONE_OFF_STEPS: tuple[Improvised, ...] = (
    Improvised("question", "How many users are affected?",
               (("Just this user", 6), ("A few users", 3), ("Everyone", 1))),
    Improvised("action", "Reproduce the problem with the user on a remote session", fail=0.1, include=0.7),
)

# Detail engineers add to a one-off's summary, so no two read exactly alike.
ONE_OFF_DETAILS: tuple[str, ...] = (
    "", "", "", " - urgent", " for the MD", " at the Leeds office", " (new starter)", " - reception",
    " since yesterday", " again", " for the finance team", " at the warehouse",
)

# Sessions where the copilot could not tell the domain, most without a usable problem.
VAGUE_SUMMARIES: tuple[str | None, ...] = (
    None, None, "User called, issue unclear", "Caller hung up before describing the problem",
    "Everything is slow and broken", "Multiple issues: printer, email and a password",
    "Ticket raised from a voicemail, no details", "Help!!", "see ticket", "User says 'it's not working'",
)
VAGUE_QUESTION = Improvised("question", "What exactly is the user seeing?",
                            (("An error message", 3), ("It's slow", 2), ("Can't describe it", 2)))
VAGUE_NOTES: tuple[str, ...] = (
    "Left a voicemail, no answer", "Emailed the user for a screenshot", "User in meetings until this afternoon",
    "Called back, user no longer at desk",
)

ENGINEER_NOTES: tuple[str, ...] = (
    "Remote session via ScreenConnect", "User confirmed on Teams", "Checked the RMM: device online",
    "User stepped away, waiting", "Called the user back",
)
OFF_FLOW_ESCALATION = "Engineer escalated to second line before the flow finished"
RETRY_NOTE = "Tried again"

# ---------------------------------------------------------------------------------------------
# Accounts, engineers and PSA systems
# ---------------------------------------------------------------------------------------------

ACCOUNT_SLUGS: tuple[str, ...] = (
    "northwind-it", "contoso-msp", "fabrikam-tech", "tailspin-managed", "adventure-works-it",
    "litware-support", "wingtip-msp", "woodgrove-it", "proseware-services", "fourth-coffee-it",
    "alpine-ski-house-it", "relecloud-managed",
)
# UTC offset of each account's office hours (cycled): a US account peaks in the UK evening.
ACCOUNT_UTC_OFFSETS: tuple[int, ...] = (0, -5, 1, -6, 0, -8, 10, 1, -5, 0, 2, -7)
# The client companies an MSP's tickets are for: each account serves CLIENTS_PER_ACCOUNT of them,
# of very different sizes (Zipf-like weights 1, 1/2 ... 1/12: the largest has twelve times the smallest's tickets).
CLIENT_COMPANIES: tuple[str, ...] = (
    "Harbor Dental Group", "Bayview Logistics", "Greenfield Law LLP", "Summit Orthopaedics", "Oakridge Schools",
    "Brightwater Accountants", "Mapleleaf Realty", "Riverside Vets", "Northgate Engineering", "Crescent Insurance",
    "Pinecrest Care Homes", "Lakeside Architects", "Redstone Manufacturing", "Bluebird Nurseries",
    "Ironbridge Freight", "Silverline Recruitment", "Westbrook Pharmacy", "Hillcrest Hotels", "Copperleaf Media",
    "Stonegate Builders", "Evergreen Charity Trust", "Falcon Aviation Services", "Granite Credit Union",
    "Meadowbank Surgery", "Kingfisher Opticians", "Thornbury Estates", "Juniper Marketing", "Ashford Solicitors",
    "Clearwater Labs", "Windmill Bakeries",
)
CLIENTS_PER_ACCOUNT = 12
CLIENT_SIZE_EXPONENT = 1.0
# Internal work (the MSP's own machines) goes on tickets that name no client.
INTERNAL_TICKET_SHARE = 0.02

FIRST_NAMES: tuple[str, ...] = (
    "alex", "sam", "jordan", "priya", "tom", "aisha", "liam", "chloe", "marek", "fatima", "noah",
    "grace", "kenji", "sofia", "dan", "leah", "omar", "emma", "raj", "zoe", "ben", "nina", "luca", "hannah",
)
LAST_NAMES: tuple[str, ...] = (
    "patel", "smith", "okafor", "nowak", "jones", "chen", "murphy", "garcia", "evans", "khan", "taylor",
    "brown", "silva", "wright", "ali", "walsh",
)


@dataclass(frozen=True)
class PsaSystem:
    name: str
    priorities: tuple[str, str, str, str]  # P1..P4
    boards: Mapping[str, str]  # board kind -> board name, "escalated" for the tier-2 board
    quarter_hours: bool  # time entries rounded up to 15 minutes


PSA_SYSTEMS: tuple[PsaSystem, ...] = (
    PsaSystem("connectwise",
              ("Priority 1 - Critical", "Priority 2 - High", "Priority 3 - Normal", "Priority 4 - Low"),
              MappingProxyType({"service": "Service Desk", "network": "Network Ops", "security": "Security",
                                "monitoring": "Monitoring", "projects": "Projects", "escalated": "Escalations"}),
              quarter_hours=True),
    PsaSystem("autotask", ("Critical", "High", "Medium", "Low"),
              MappingProxyType({"service": "Tier 1 Support", "network": "Network Operations",
                                "security": "Security Operations", "monitoring": "Monitoring Alerts",
                                "projects": "Projects", "escalated": "Tier 2 Support"}),
              quarter_hours=False),
    PsaSystem("halopsa", ("P1", "P2", "P3", "P4"),
              MappingProxyType({"service": "1st Line", "network": "Network", "security": "Security",
                                "monitoring": "Alerts", "projects": "Projects", "escalated": "2nd Line"}),
              quarter_hours=False),
)
# Resolution SLA in hours, P1..P4.
SLA_HOURS: tuple[int, int, int, int] = (4, 8, 24, 72)


# ---------------------------------------------------------------------------------------------
# New versions published during the demo window (Impact)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """A new version of a flow, published ``days_ago`` before the anchor. ``nodes`` replace the
    nodes of the same id, or are added. Outcomes change only through the tree: sessions after the
    publication walk the new one (the Impact page's verdicts come from that)."""

    flow: str
    days_ago: float
    nodes: tuple[Node, ...]
    expected: str  # the verdict the change is built to earn with enough sessions

    def spec(self) -> FlowSpec:
        base = FLOW_BY_ID[self.flow]
        replaced = {n.id: n for n in self.nodes}
        nodes = tuple(replaced.pop(n.id, n) for n in base.nodes) + tuple(replaced.values())
        return FlowSpec(base.id, base.name, base.domain, nodes, base.core)


_PRINTING = FLOW_BY_ID["fl-printing-offline"]
_OUTLOOK = FLOW_BY_ID["fl-email-outlook-not-syncing"]

REVISIONS: tuple[Revision, ...] = (
    # Engineers typed "Only on the terminal server" a fifth of the time and the flow sent them to
    # escalation; the new version offers it, with the fix: fewer escalations, more resolutions.
    Revision("fl-printing-offline", 35, expected="improved", nodes=(
        Q("q_scope", _PRINTING.nodes[0].text,
          ("Everyone", "q_panel", 4), ("Only one user", "s_spooler", 6),
          ("Only on the terminal server (RDS / Citrix)", "a_rds", 3)),
        A("a_rds", "Restart the Print Spooler on the RDS host and redeploy the printer to the session "
          "hosts by Group Policy", "q_ok", fail=0.05,
          fix=("Restarted the spooler on the RDS host and redeployed the printer by GPO",
               "Printer mapping missing on the terminal server")),
    )),
    # "Not sure" where the lockout is now goes to the security team instead of the lockout search:
    # more escalations for the same problems.
    Revision("fl-identity-account-locked", 25, expected="worse", nodes=(
        Q("q_where", "Where is the account locked: on-premises AD or Entra ID (Microsoft 365)?",
          ("On-premises AD", "s_lockout", 6), ("Entra ID / Microsoft 365", "a_entra", 4),
          ("Not sure", "e_sec", 2)),
    )),
    # Clearer wording, same choices: nothing changes for the sessions.
    Revision("fl-endpoint-slow-pc", 40, expected="no_clear_change", nodes=(
        Q("q_since", "When did the user first notice the slowness?",
          ("After a Windows update", "s_health", 3), ("Gradually over weeks", "s_health", 4),
          ("Only when one app is open", "a_app", 3)),
    )),
    # The New Outlook option, published three days ago: too early to tell.
    Revision("fl-email-outlook-not-syncing", 3, expected="too_early", nodes=(
        Q("q_client", _OUTLOOK.nodes[0].text,
          ("Classic Outlook for Windows", "q_owa", 6), ("Outlook on the web", "s_trace", 1),
          ("Outlook mobile", "a_mobile", 2), ("New Outlook for Windows", "a_new_outlook", 1.2)),
        A("a_new_outlook", "Switch the user back to classic Outlook with the toggle, then sign in again",
          "q_ok", fix=("Switched back to classic Outlook and signed in again", "New Outlook sync issue")),
    )),
)
REVISION_BY_FLOW: Mapping[str, Revision] = MappingProxyType({r.flow: r for r in REVISIONS})
# The base version of a revised flow went live this long before the anchor.
BASE_VERSION_DAYS_AGO = 200
