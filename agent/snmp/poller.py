"""Poll one SNMP target with the pysnmp 7 asyncio API and return a `Sample`.

The only module that imports pysnmp (it costs ~20 MB of RSS; an agent without SNMP targets
never loads it). One `TargetPoller` per target owns one `SnmpEngine`: SNMPv3 users are kept
per engine by name, so two devices with the same user name but different passwords must not
share one, and a kept engine remembers the agent's engine ID between polls (no rediscovery).

A poll is one GET of the system scalars and one walk per column in oids.TABLES. Any error
(timeout, wrong credentials, an error status) fails the whole poll: a half-read device would
show as up with series missing, which is worse than down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC128_SHA224,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384,
    USM_AUTH_HMAC384_SHA512,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CBC168_3DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES_BLUMENTHAL,
    USM_PRIV_CFB256_AES_BLUMENTHAL,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.proto.rfc1902 import ObjectIdentifier
from pysnmp.proto.rfc1905 import EndOfMibView

from agent.config import SnmpSettings, SnmpTarget
from agent.snmp import oids
from agent.snmp.sample import Sample, Value, build_sample, failed

_AUTH_PROTOCOLS = {
    "MD5": USM_AUTH_HMAC96_MD5,
    "SHA": USM_AUTH_HMAC96_SHA,
    "SHA-224": USM_AUTH_HMAC128_SHA224,
    "SHA-256": USM_AUTH_HMAC192_SHA256,
    "SHA-384": USM_AUTH_HMAC256_SHA384,
    "SHA-512": USM_AUTH_HMAC384_SHA512,
}
# AES-192/256 key extension as in draft-blumenthal-aes-usm-04, which is what net-snmp's
# "AES192"/"AES256" use (checked against snmpd 5.9.3); the Cisco/Reeder variant differs.
_PRIV_PROTOCOLS = {
    "DES": USM_PRIV_CBC56_DES,
    "3DES": USM_PRIV_CBC168_3DES,
    "AES-128": USM_PRIV_CFB128_AES,
    "AES-192": USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES-256": USM_PRIV_CFB256_AES_BLUMENTHAL,
}
_MP_MODEL = {"1": 0, "2c": 1}

# GETBULK rows per request: ~25 keeps a response under a typical 1500-byte MTU.
_MAX_REPETITIONS = 25
# Bound on requests per column walk, so an agent that never ends a table cannot keep us busy.
_MAX_REQUESTS_PER_COLUMN = 1000
# Every text object read is a DisplayString, SIZE (0..255) (SNMPv2-TC): longer text is cut
# there. With the values kept per answer (at most what was asked for), this bounds what one
# poll holds by what it asked for, not by what a device sends (a UDP answer can carry 64 KiB).
_MAX_TEXT_OCTETS = 255
# SNMPv1 noSuchName: a GETNEXT past the end of the MIB view.
_NO_SUCH_NAME = 2


class PollError(Exception):
    """An SNMP-level failure; its text is shown to operators and must carry no secret."""


class TargetPoller:
    """Polls one target; `poll()` never raises (except cancellation), it returns a Sample."""

    def __init__(self, target: SnmpTarget, settings: SnmpSettings,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.target = target
        # This target's share of the agent-wide row budget (config.py checks it is >= 1):
        # a static share, so a device with huge tables fails alone and takes nothing from
        # the others, and what all polls and cached samples hold together stays bounded.
        self.max_rows = settings.max_rows // max(1, len(settings.targets))
        self.timeout_seconds = (target.timeout_seconds if target.timeout_seconds is not None
                                else settings.timeout_seconds)
        self.retries = target.retries if target.retries is not None else settings.retries
        self._clock = clock
        self._auth = _auth_data(target)
        self._secrets = [s for s in (target.community, target.auth_password,
                                     target.priv_password) if s]
        self._engine: SnmpEngine | None = None

    async def poll(self) -> Sample:
        start = self._clock()
        try:
            system, tables = await self._read()
        except Exception as exc:  # every failure is a down target, never an error upstream
            reason = str(exc) if isinstance(exc, PollError) else f"{type(exc).__name__}: {exc}"
            return failed(self.target.name, duration_seconds=self._clock() - start,
                          error=self._redact(reason))
        return build_sample(self.target.name, duration_seconds=self._clock() - start,
                            system=system, tables=tables)

    def close(self) -> None:
        """Release the engine's UDP socket; call on the loop that polled."""
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    async def _read(self) -> tuple[dict[str, Value], dict[str, dict[str, dict[str, Value]]]]:
        if self._engine is None:
            # Created inside the running loop: its dispatcher binds to that loop.
            self._engine = SnmpEngine()
        address = self.target.address.strip("[]")
        transport_cls = Udp6TransportTarget if ":" in address else UdpTransportTarget
        transport = await transport_cls.create(
            (address, self.target.port),
            timeout=self.timeout_seconds, retries=self.retries,
        )
        session = _Session(self._engine, self._auth, transport, self.target.version)
        system = await session.get(oids.SYSTEM)
        tables: dict[str, dict[str, dict[str, Value]]] = {}
        left = self.max_rows  # rows of every table together
        for table, columns in oids.TABLES.items():
            rows: dict[str, dict[str, Value]] = {}
            for column in columns:
                for index, value in (await session.walk(column, left, self.max_rows)).items():
                    rows.setdefault(index, {})[column.field] = value
                if len(rows) > left:  # columns of one table may index different rows
                    raise _too_many_rows(self.max_rows)
            tables[table] = rows
            left -= len(rows)
        return system, tables

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret.reveal(), "***")
        return text


class _Session:
    """The requests of one poll against one agent."""

    def __init__(self, engine: SnmpEngine, auth: CommunityData | UsmUserData,
                 transport: UdpTransportTarget, version: str) -> None:
        self._engine = engine
        self._auth = auth
        self._transport = transport
        self._v1 = version == "1"

    async def get(self, objects: Iterable[oids.MibObject]) -> dict[str, Value]:
        objects = tuple(objects)
        error, status, index, varbinds = await get_cmd(
            self._engine, self._auth, self._transport, ContextData(),
            *(ObjectType(ObjectIdentity(o.oid)) for o in objects), lookupMib=False,
        )
        _check(error, status, index, [o.name for o in objects])
        return {o.field: _python(value) for o, (_name, value) in zip(objects, varbinds,
                                                                     strict=True)}

    async def walk(self, column: oids.MibObject, max_rows: int,
                   share: int) -> dict[str, Value]:
        """Row index -> value for one table column (GETBULK, or GETNEXT on SNMPv1); more
        than `max_rows` rows (what is left of the target's `share`) fail the poll as soon as
        they arrive."""
        prefix = ObjectIdentifier(column.oid)
        rows: dict[str, Value] = {}
        cursor = prefix
        for _ in range(_MAX_REQUESTS_PER_COLUMN):
            request = ObjectType(ObjectIdentity(cursor))
            if self._v1:
                error, status, index, varbinds = await next_cmd(
                    self._engine, self._auth, self._transport, ContextData(), request,
                    lookupMib=False,
                )
                if not error and status == _NO_SUCH_NAME:
                    return rows
            else:
                error, status, index, varbinds = await bulk_cmd(
                    self._engine, self._auth, self._transport, ContextData(),
                    0, _MAX_REPETITIONS, request, lookupMib=False,
                )
            _check(error, status, index, [column.name])
            if not varbinds:
                return rows
            # A device answering more values than asked for (RFC 3416 4.2.3 bounds a GETBULK
            # answer by max-repetitions) has the rest ignored: the walk goes on after the last
            # value kept, so a conformant table reads the same and a device sending thousands
            # of values per answer holds no more than one that sends what it was asked for.
            for name, value in varbinds[:1 if self._v1 else _MAX_REPETITIONS]:
                oid = ObjectIdentifier(name)
                if isinstance(value, EndOfMibView) or not prefix.isPrefixOf(oid):
                    return rows
                if oid <= cursor:
                    raise PollError(f"walking {column.name}: the agent returned "
                                    f"{oid} after {cursor} (OIDs must increase)")
                if len(rows) == max_rows:
                    raise _too_many_rows(share)
                rows[".".join(str(part) for part in tuple(oid)[len(prefix):])] = _python(value)
                cursor = oid
        raise PollError(f"walking {column.name}: more than "
                        f"{_MAX_REQUESTS_PER_COLUMN} requests, giving up")


def _too_many_rows(limit: int) -> PollError:
    return PollError(f"its tables have more than {limit} rows (this target's share of "
                     f"snmp.max_rows)")


def _check(error: object, status: object, index: object, names: list[str]) -> None:
    if error:
        # pysnmp's texts ("No SNMP response received before timeout", "Wrong SNMP PDU
        # digest") name the problem without echoing credentials.
        raise PollError(str(error))
    if status:
        text = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
        position = int(index or 0)
        where = f" at {names[position - 1]}" if 0 < position <= len(names) else ""
        raise PollError(f"agent answered {text}{where}")


def _python(value: object) -> Value:
    """pysnmp value -> int / str / None (noSuchObject, noSuchInstance, endOfMibView)."""
    # Null first: pyasn1 derives the SNMP exception values (noSuchObject...) from it, and
    # Null from OctetString.
    if isinstance(value, univ.Null):
        return None
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    if isinstance(value, univ.OctetString):
        # DisplayString is ASCII/UTF-8 in practice; keep odd bytes visible, drop C padding.
        text = bytes(value)[:_MAX_TEXT_OCTETS]
        return text.decode("utf-8", errors="replace").rstrip("\x00").strip()
    if isinstance(value, univ.Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks
        return int(value)
    return None


def _auth_data(target: SnmpTarget) -> CommunityData | UsmUserData:
    if target.version in _MP_MODEL:
        assert target.community is not None  # SnmpTarget.__post_init__ enforces it
        # An explicit index: pysnmp would otherwise derive one from a hash of the community.
        return CommunityData(target.name, target.community.reveal(),
                             mpModel=_MP_MODEL[target.version])
    assert target.username and target.auth_password and target.priv_password
    return UsmUserData(
        target.username,
        authKey=target.auth_password.reveal(),
        privKey=target.priv_password.reveal(),
        authProtocol=_AUTH_PROTOCOLS[target.auth_protocol],
        privProtocol=_PRIV_PROTOCOLS[target.priv_protocol],
    )
