"""The real snmpd of the agent tests, for the SNMP panels."""

from tests.agent.conftest import snmpd  # noqa: F401  (a fixture, used by name)
