"""Tables for Windows hosts and the Microsoft components installed on them: edition variants of
Windows, the .NET Framework's release keys and Exchange Server's version numbers.

Plain data, no I/O. Read by registry/windows_readers.py; the Exchange table is the cycle picker's
(registry/cycle_selection.py).
"""

from __future__ import annotations

import re

# Windows editions -> the variant suffix of the windows product's cycle names: w (Home, Pro,
# Pro Education, Pro for Workstations: the shorter servicing), e (Enterprise, Education, IoT
# Enterprise), e-lts (Enterprise LTSB/LTSC), iot-lts (IoT Enterprise LTSC). Patterns are
# tried in order on the EditionID, then on the caption / product name.
WINDOWS_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"iot\s*enterprise\s*s\b|iotenterprises|iot.*\blts[bc]\b", re.I), "iot-lts"),
    (re.compile(r"enterprise\s*s(n)?\b|enterprises(n)?\b|\blts[bc]\b", re.I), "e-lts"),
    (re.compile(r"serverrdsh|multi-session", re.I), "e"),
    (re.compile(r"professional|\bpro\b|\bhome\b|\bcore|workstation", re.I), "w"),
    (re.compile(r"enterprise|education|iot", re.I), "e"),
)
# Win32_OperatingSystem.OperatingSystemSKU -> variant.
WINDOWS_SKUS: dict[int, str] = {
    4: "e", 27: "e", 70: "e", 72: "e", 84: "e", 121: "e", 122: "e", 175: "e", 188: "e",
    125: "e-lts", 126: "e-lts", 129: "e-lts", 131: "e-lts", 191: "iot-lts",
    48: "w", 49: "w", 98: "w", 99: "w", 100: "w", 101: "w", 161: "w", 162: "w", 164: "w",
    165: "w",
}


# .NET Framework 4.5 and later: the `Release` DWORD of HKLM\SOFTWARE\Microsoft\NET Framework
# Setup\NDP\v4\Full -> version, by the minimum value Microsoft documents for each version
# ("How to: Determine which .NET Framework versions are installed", learn.microsoft.com/dotnet/
# framework/migration-guide/how-to-determine-which-versions-are-installed). A key at or above a
# minimum is that version or a later one; an update of the same version raises the key (4.8 is
# 528040 on Windows 10 1903, 528049 elsewhere), so the highest minimum not above the key wins.
DOTNETFX_RELEASES: tuple[tuple[int, str], ...] = (
    (533320, "4.8.1"),
    (528040, "4.8"),
    (461808, "4.7.2"),
    (461308, "4.7.1"),
    (460798, "4.7"),
    (394802, "4.6.2"),
    (394254, "4.6.1"),
    (393295, "4.6"),
    (379893, "4.5.2"),
    (378675, "4.5.1"),
    (378389, "4.5"),
)
# Above this the key is not a .NET Framework 4.x release key Microsoft has published (4.8.1 is
# 533320-533509): a value far out of range is something else, not a newer version.
DOTNETFX_RELEASE_LIMIT = 600_000

# Exchange Server version (major, minor) and the first build of a release sharing it ->
# msexchange cycle. Microsoft's "Exchange Server build numbers and release dates"
# (learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates): 2019 is 15.2,
# Subscription Edition continues 15.2 from build 2562 (SE RTM 15.2.2562.17), 2016 is 15.1, 2013
# is 15.0, 2010 is 14.x, 2007 is 8.x. First match wins.
EXCHANGE_CYCLES: tuple[tuple[tuple[int, ...], int, str], ...] = (
    ((15, 2), 2562, "subscription"),
    ((15, 2), 0, "2019"),
    ((15, 1), 0, "2016"),
    ((15, 0), 0, "2013"),
    ((14,), 0, "2010"),
    ((8,), 0, "2007"),
    ((6, 5), 0, "2003"),
    ((6, 0), 0, "2000"),
    ((5, 5), 0, "5.5"),
    ((5, 0), 0, "5.0"),
    ((4, 0), 0, "4.0"),
)
