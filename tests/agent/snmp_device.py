"""A misbehaving SNMPv2c device on a real UDP socket, for what no real snmpd can be made to do:
answer a GETBULK with far more values than asked for, text longer than DisplayString's 255
octets, and tables that never end. It speaks real SNMP (pysnmp's own message encoding), so the
agent's poller reads it exactly as it reads a switch.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from tests.services import free_port

_SYSTEM = {
    "1.3.6.1.2.1.1.1.0": v2c.OctetString(b"misbehaving device"),
    "1.3.6.1.2.1.1.2.0": v2c.ObjectIdentifier("1.3.6.1.4.1.99999"),
    "1.3.6.1.2.1.1.3.0": v2c.TimeTicks(100),
    "1.3.6.1.2.1.1.5.0": v2c.OctetString(b"misbehaving"),
}
# Table columns are 1.3.6.1.2.1.x...x.column: 10 or 11 sub-identifiers in oids.TABLES.
_COLUMN_PREFIXES = ("1.3.6.1.2.1.2.2.1.", "1.3.6.1.2.1.31.1.1.1.", "1.3.6.1.2.1.25.2.3.1.",
                    "1.3.6.1.2.1.25.3.3.1.")

# ifDescr, ifName, hrStorageDescr: DisplayStrings; every other column is a number.
_TEXT_COLUMNS = ("1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.25.2.3.1.3")


class Device:
    """Answers every GETBULK/GETNEXT with `per_answer` rows after the one asked for: text of
    `text_octets` bytes in the text columns, rows 1..`rows` (None: the table never ends);
    with `interfaces_only` its HOST-RESOURCES-MIB tables are empty."""

    def __init__(self, *, per_answer: int, text_octets: int, rows: int | None,
                 interfaces_only: bool = False) -> None:
        self.per_answer, self.text_octets, self.rows = per_answer, text_octets, rows
        self.interfaces_only = interfaces_only
        self.port = free_port(socket.SOCK_DGRAM)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self._sock.bind(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Device:
        self._thread.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._sock.recvfrom(65535)
            except OSError:
                return  # closed
            self._sock.sendto(self._answer(data), peer)

    def _answer(self, data: bytes) -> bytes:
        message, _ = decoder.decode(data, asn1Spec=v2c.Message())
        request = v2c.apiMessage.get_pdu(message)
        response = v2c.apiPDU.get_response(request)
        asked = v2c.apiPDU.get_varbinds(request)
        if request.isSameTypeWith(v2c.GetRequestPDU()):
            out = [(oid, _SYSTEM.get(str(oid), v2c.NoSuchObject(""))) for oid, _ in asked]
        else:
            (oid, _), = asked
            out = self._rows_after(str(oid))
        v2c.apiPDU.set_varbinds(response, out)
        v2c.apiMessage.set_pdu(message, response)
        return encoder.encode(message)

    def _rows_after(self, oid: str) -> list[tuple[v2c.ObjectIdentifier, object]]:
        column = next((p + oid[len(p):].split(".")[0] for p in _COLUMN_PREFIXES
                       if oid.startswith(p)), None)
        if column is None or (self.interfaces_only and column.startswith("1.3.6.1.2.1.25.")):
            return [(v2c.ObjectIdentifier(oid), v2c.EndOfMibView(""))]
        suffix = oid[len(column) + 1:]
        after = int(suffix.split(".")[0]) if suffix else 0
        out: list[tuple[v2c.ObjectIdentifier, object]] = []
        for index in range(after + 1, after + 1 + self.per_answer):
            if self.rows is not None and index > self.rows:
                # Past the table: the next column's OID ends the walk, as a real agent's does.
                beyond = column.rsplit(".", 1)[0] + ".9999.1"
                out.append((v2c.ObjectIdentifier(beyond), v2c.Integer(0)))
                break
            value = (v2c.OctetString(b"d" * self.text_octets) if column in _TEXT_COLUMNS
                     else v2c.Integer(1))
            out.append((v2c.ObjectIdentifier(f"{column}.{index}"), value))
        return out
