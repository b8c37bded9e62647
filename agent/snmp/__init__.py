"""SNMP polling of `[[snmp.targets]]`: system group, IF-MIB and HOST-RESOURCES-MIB as metrics.

Modules, one concept each: `oids` (the OID table), `sample` (one poll as frozen data),
`poller` (pysnmp, one target), `metrics` (the Prometheus collector), `service` (the background
thread). This package imports nothing on import: pysnmp costs ~20 MB of RSS and is loaded
only when a service starts polling (import `agent.snmp.service` when targets are configured).
"""
