"""The host agent: health metrics, inventory, SNMP poller, inventory push (docs/architecture.md).

Runs on every managed server, so it stays light: psutil, prometheus-client, the standard
library, and pysnmp only when SNMP targets are configured. It never imports collector/.
"""
