"""Tables for hardware: CPU model strings and NVIDIA GPU names -> their cycles in the data
(intel-processors, nvidia-gpu). Plain data, read by registry/device_readers.py (cpuinfo,
redfish, nvidia-smi).
"""

from __future__ import annotations

import re

# Intel CPU model strings -> intel-processors cycle. Only unambiguous families: the Xeon
# E5/E7 generation suffix names the microarchitecture (the data's label for broadwell-xeon
# reads "Xeon E7v4/E7v4", an upstream typo for E5v4/E7v4; the rule follows Intel's naming).
CPU_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Intel.*Xeon.*\bE[57]-\d{4}\w* v4\b"), "broadwell-xeon"),
    (re.compile(r"Intel.*Xeon.*\bE[57]-\d{4}\w* v3\b"), "haswell-xeon"),
    (re.compile(r"Intel.*Xeon.*\bE[57]-\d{4}\w* v2\b"), "ivy-bridge-xeon"),
    (re.compile(r"Intel.*Xeon.*\bD-15\d\d"), "broadwell-de"),
    (re.compile(r"Intel.*Atom.*\bC2\d{3}\b"), "avoton"),
)

# NVIDIA GPU names (nvidia-smi) -> nvidia-gpu cycle, data-centre and workstation parts only.
GPU_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(Tesla )?V100\b|Quadro GV100|TITAN V\b"), "professional-volta"),
    (re.compile(r"\b(Tesla )?(T4|Quadro RTX [4-8]000)\b"), "professional-turing"),
    (re.compile(r"\b(Tesla )?(P100|P40|P4|P6)\b|Quadro P\d{3,4}\b"), "professional-pascal"),
    (re.compile(r"\b(Tesla )?(K80|K40|K20X?|K10)\b"), "professional-kepler"),
    (re.compile(r"\b(A100|A30|A40|A10|A16|A2|RTX A\d{4})\b"), "professional-ampere"),
    (re.compile(r"\b(L4|L40S?|RTX \d{4} Ada)\b"), "professional-ada-lovelace"),
    (re.compile(r"GeForce RTX 40\d0"), "consumer-ada-lovelace"),
    (re.compile(r"GeForce RTX 30\d0"), "consumer-ampere"),
    (re.compile(r"GeForce (RTX 20\d0|GTX 16\d0)"), "consumer-turing"),
    (re.compile(r"GeForce GTX 10\d0"), "consumer-pascal"),
)
