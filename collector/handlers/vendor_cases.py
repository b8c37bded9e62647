"""Vendor cases over HTTP: list, open, show, update, note, close (docs/vendor-cases.md).

Parse -> registry/vendor_cases.py (transitions, follow-up dates, what the registry says) ->
collector/store/vendor_cases.py -> answer. Refusals: 400 for a malformed body (the reason
names the field), 404 for a case that does not exist (the one in the path), 409 for what
conflicts with the case, the clock or what the collector knows (a status the case may not
take, a follow-up date not in the future, a case number already open, a linked ticket,
change, host or contract that does not exist: the case is there, what the body names is not,
and the same request succeeds once it is); nothing is written then.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from collector.app import INTAKE, REGISTRY, SETTINGS, STORES, error_response, read_json
from collector.handlers.tickets import acting_person
from collector.payloads.fields import BadPayload, choice, mapping, no_unknown, string, timestamp
from collector.payloads.people import person
from collector.query import MAX_ID, ChoiceList, Integer, Path, PathId, Query, Text
from collector.store.vendor_cases import (
    CaseFilter,
    CaseNotFound,
    CaseUpdate,
    DuplicateCase,
    Links,
    NewCase,
    UnknownLink,
    VendorCase,
    VendorCaseStore,
)
from registry.vendor_cases import (
    ACTIVE,
    MAX_FOLLOW_UP_DAYS,
    CaseStatus,
    PastFollowUp,
    RefusedTransition,
    Severity,
    contract_standing,
    follow_up_interval,
    next_follow_up,
    past_end_of_support,
)

MAX_LIMIT = 500
MAX_LINKS = 100

LIST_QUERY = Query(
    ChoiceList(name="status", choices=tuple(s.value for s in CaseStatus),
               default=tuple(s.value for s in CaseStatus if s in ACTIVE),
               description="comma-separated statuses"),
    Text(name="vendor"),
    Text(name="owner"),
    Text(name="host", description="cases linked to this host"),
    Text(name="case_number", description="the vendor's case number"),
    Integer(name="limit", minimum=1, maximum=MAX_LIMIT, default=100),
    Integer(name="before", minimum=0, maximum=MAX_ID,
            description="only cases with a smaller id (the previous page's next_before)"),
)
CASE_PATH = Path(PathId())

OPEN_FIELDS = {"vendor", "case_number", "summary", "severity", "owner", "product", "contract",
               "tickets", "changes", "hosts", "follow_up_days", "next_follow_up", "note",
               "actor"}
UPDATE_FIELDS = {"status", "severity", "owner", "summary", "contract", "follow_up_days",
                 "next_follow_up", "vendor_update", "note", "tickets", "changes", "hosts",
                 "actor"}


def _store(request: web.Request) -> VendorCaseStore:
    return VendorCaseStore(request.app[STORES].engine)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


async def case_json(request: web.Request, case: VendorCase,
                    contracts: list | None = None) -> dict[str, Any]:
    """The case, with what the registry says of its contract today and its warnings
    (`contracts`: the registry's, when the caller read them already for several cases)."""
    body = {f.name: _plain(getattr(case, f.name)) for f in dataclasses.fields(case)}
    warnings = [f"opened on something past end of support (vendors may refuse support): "
                f"{reason}" for reason in case.past_end_of_support]
    body["contract_standing"] = None
    if case.contract is not None:
        today = request.app[INTAKE].now().date()
        if contracts is None:
            contracts = await request.app[REGISTRY].store.contracts()
        standing = contract_standing(case.contract, contracts, today, vendor=case.vendor)
        if standing is None:
            warnings.append(f"contract {case.contract} is no longer in the registry")
        else:
            body["contract_standing"] = {
                "number": standing.number, "vendor": standing.vendor,
                "end_date": standing.end_date.isoformat(), "expired": standing.expired,
                "assets": list(standing.assets)}
            if standing.warning():
                warnings.append(standing.warning())
    body["warnings"] = warnings
    return body


def _id(request: web.Request) -> int:
    case_id = CASE_PATH.parse(request)["id"]
    if case_id is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such vendor case"}),
                               content_type="application/json")
    return case_id


def _ids(value: Any, path: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadPayload(f"{path}: must be an array of ids")
    if len(value) > MAX_LINKS:
        raise BadPayload(f"{path}: more than {MAX_LINKS} items")
    out = []
    for index, item in enumerate(value):
        # JSON has one number type: 3.0 is the integer 3 (as JSON Schema says).
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= MAX_ID:
            raise BadPayload(f"{path}[{index}]: must be a whole number from 1 to {MAX_ID}")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _hosts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadPayload("hosts: must be an array of host names")
    if len(value) > MAX_LINKS:
        raise BadPayload(f"hosts: more than {MAX_LINKS} items")
    return tuple(dict.fromkeys(string(item, f"hosts[{index}]", max_length=255)
                               for index, item in enumerate(value)))


def _days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 1 <= value <= MAX_FOLLOW_UP_DAYS:
        raise BadPayload(f"follow_up_days: must be a whole number from 1 to "
                         f"{MAX_FOLLOW_UP_DAYS}")
    return value


def _when(value: Any) -> datetime | None:
    return timestamp(value, "next_follow_up", default=None)  # type: ignore[arg-type]


def _links(body: Any) -> Links:
    return Links(tickets=_ids(body.get("tickets"), "tickets"),
                 changes=_ids(body.get("changes"), "changes"), hosts=_hosts(body.get("hosts")))


async def list_cases(request: web.Request) -> web.Response:
    given = LIST_QUERY.parse(request.query)
    cases = await _store(request).list(CaseFilter(
        status=given["status"], vendor=given["vendor"], owner=given["owner"],
        host=given["host"], case_number=given["case_number"], limit=given["limit"],
        before_id=given["before"]))
    contracts = (await request.app[REGISTRY].store.contracts()
                 if any(c.contract for c in cases) else [])
    body: dict[str, Any] = {"cases": [await case_json(request, c, contracts) for c in cases]}
    if cases:
        body["next_before"] = cases[-1].id
    return web.json_response(body)


async def open_case(request: web.Request) -> web.Response:
    body = mapping(await read_json(request), "body")
    no_unknown(body, OPEN_FIELDS, "")
    vendor = string(body.get("vendor"), "vendor", max_length=255)
    number = string(body.get("case_number"), "case_number", max_length=255)
    summary = string(body.get("summary"), "summary", max_length=2000)
    severity = choice(body.get("severity"), Severity, "severity", default=Severity.MEDIUM)
    product = string(body.get("product"), "product", max_length=255, required=False)
    contract = string(body.get("contract"), "contract", max_length=255, required=False)
    links = _links(body)
    days = _days(body.get("follow_up_days"))
    given = _when(body.get("next_follow_up"))
    note = string(body.get("note"), "note", max_length=20_000, required=False)
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    owner = person(body.get("owner"), "owner", required=False) or actor
    now = request.app[INTAKE].now()
    days = days or request.app[SETTINGS].vendor_cases.follow_up_days
    try:
        due = next_follow_up(now, interval=follow_up_interval(days, days), given=given)
    except PastFollowUp as exc:
        return error_response(409, str(exc))
    registry = request.app[REGISTRY].store
    warnings: list[str] = []
    if contract is not None:
        standing = contract_standing(contract, await registry.contracts(), now.date(),
                                     vendor=vendor)
        if standing is None:
            return error_response(409, f"contract: no contract numbered {contract!r} in the "
                                       f"registry (regie registry import-contracts)")
        if standing.warning():
            warnings.append(standing.warning())
    software = []
    for host in links.hosts:
        software += await registry.software(host=host)
    if product is not None and not links.hosts:
        software += await registry.software(product=product)
    past = past_end_of_support(software, now.date(), hosts=links.hosts, product=product)
    try:
        case = await _store(request).open(NewCase(
            vendor=vendor, case_number=number, summary=summary, severity=severity,
            owner=owner, product=product, contract=contract, links=links,
            follow_up_days=days, next_follow_up_at=due, past_end_of_support=tuple(past),
            warnings=tuple(warnings), note=note), actor=actor, now=now)
    except UnknownLink as exc:
        return error_response(409, str(exc))
    except DuplicateCase as exc:
        return error_response(409, str(exc), case_id=exc.case_id)
    return web.json_response(await case_json(request, case), status=201,
                             headers={"Location": f"/api/v1/vendor-cases/{case.id}"})


async def show_case(request: web.Request) -> web.Response:
    store = _store(request)
    case = await store.get(_id(request))
    if case is None:
        return error_response(404, "no such vendor case")
    body = await case_json(request, case)
    body["timeline"] = [{f.name: _plain(getattr(e, f.name)) for f in dataclasses.fields(e)}
                        for e in await store.timeline(case.id)]
    return web.json_response(body)


async def _apply(request: web.Request, change: CaseUpdate, actor: str) -> web.Response:
    now = request.app[INTAKE].now()
    if change.next_follow_up_at is not None:
        try:
            next_follow_up(now, interval=follow_up_interval(1, 1),
                           given=change.next_follow_up_at)
        except PastFollowUp as exc:
            return error_response(409, str(exc))
    warnings: list[str] = []
    if change.contract is not None:
        case_id = _id(request)
        existing = await _store(request).get(case_id)
        if existing is None:
            return error_response(404, "no such vendor case")
        standing = contract_standing(change.contract,
                                     await request.app[REGISTRY].store.contracts(),
                                     now.date(), vendor=existing.vendor)
        if standing is None:
            return error_response(409, f"contract: no contract numbered "
                                       f"{change.contract!r} in the registry")
        if standing.warning() and change.contract != existing.contract:
            warnings.append(standing.warning())
    try:
        case = await _store(request).update(_id(request), change, actor=actor, now=now,
                                            warnings=warnings)
    except CaseNotFound:
        return error_response(404, "no such vendor case")
    except UnknownLink as exc:
        return error_response(409, str(exc))
    except RefusedTransition as exc:
        return error_response(409, str(exc), case_status=exc.current.value)
    return web.json_response(await case_json(request, case))


async def update_case(request: web.Request) -> web.Response:
    body = mapping(await read_json(request), "body")
    no_unknown(body, UPDATE_FIELDS, "")
    status = body.get("status")
    severity = body.get("severity")
    vendor_update = body.get("vendor_update")
    if vendor_update is not None and not isinstance(vendor_update, bool):
        raise BadPayload("vendor_update: must be true or false")
    change = CaseUpdate(
        status=choice(status, CaseStatus, "status") if status is not None else None,
        severity=choice(severity, Severity, "severity") if severity is not None else None,
        owner=person(body.get("owner"), "owner", required=False),
        summary=string(body.get("summary"), "summary", max_length=2000, required=False),
        contract=string(body.get("contract"), "contract", max_length=255, required=False),
        follow_up_days=_days(body.get("follow_up_days")),
        next_follow_up_at=_when(body.get("next_follow_up")),
        vendor_update=bool(vendor_update),
        note=string(body.get("note"), "note", max_length=20_000, required=False),
        add_links=_links(body))
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    return await _apply(request, change, actor)


async def note_case(request: web.Request) -> web.Response:
    body = mapping(await read_json(request), "body")
    no_unknown(body, {"text", "actor"}, "")
    text = string(body.get("text"), "text", max_length=20_000)
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    return await _apply(request, CaseUpdate(note=text), actor)


async def close_case(request: web.Request) -> web.Response:
    body: Any = {}
    if request.can_read_body:
        body = mapping(await read_json(request), "body")
        no_unknown(body, {"note", "actor"}, "")
    note = string(body.get("note"), "note", max_length=20_000, required=False)
    actor = acting_person(request, person(body.get("actor"), "actor", required=False))
    return await _apply(request, CaseUpdate(status=CaseStatus.CLOSED, note=note), actor)
