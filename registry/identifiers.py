"""Standard identifiers that name a product: package URLs, CPE names, container image references.

Pure string parsing, no catalog access. The catalog index (registry/catalog_index.py) keys its
purl, cpe and image lookups with these; the readers (registry/*_readers.py) parse what an
observation carries the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class Purl:
    type: str
    namespace: str
    name: str
    version: str | None
    qualifiers: tuple[tuple[str, str], ...]


def parse_purl(text: str) -> Purl | None:
    """pkg:type/namespace/name@version?qualifiers#subpath (the package-url spec)."""
    if not isinstance(text, str) or not text.lower().startswith("pkg:"):
        return None
    body = text[4:].split("#", 1)[0]
    body, _, query = body.partition("?")
    qualifiers = tuple(
        (k.lower(), unquote(v)) for k, _, v in (q.partition("=") for q in query.split("&") if q))
    type_, _, path = body.partition("/")
    path = path.strip("/")
    version = None
    if "@" in path:
        path, _, version = path.rpartition("@")
        version = unquote(version)
    namespace, _, name = path.rpartition("/")
    if not type_ or not name:
        return None
    return Purl(type_.lower(), unquote(namespace).lower(), unquote(name).lower(), version,
                qualifiers)


_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def image_repository(ref: str) -> tuple[str, str | None]:
    """An image reference -> (registry/path with docker.io/library/ made explicit, tag).

    "postgres:15.4-alpine" -> ("docker.io/library/postgres", "15.4-alpine");
    "quay.io/keycloak/keycloak@sha256:..." -> ("quay.io/keycloak/keycloak", None)."""
    ref = ref.strip().lower()
    ref = ref.split("://", 1)[-1]
    ref = ref.split("@", 1)[0]
    head, slash, last = ref.rpartition("/")
    tag = None
    if ":" in last:
        last, _, tag = last.partition(":")
    path = f"{head}{slash}{last}"
    parts = path.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, rest = parts[0], parts[1:]
    else:
        registry, rest = "docker.io", parts
    if registry in _DOCKER_HUB:
        registry = "docker.io"
        if len(rest) == 1:
            rest = ["library", *rest]
    if registry == "quay.io" and rest[:1] == ["repository"]:
        rest = rest[1:]
    return "/".join([registry, *rest]), tag or None


def purl_image_key(purl: Purl) -> str | None:
    """A docker or oci purl's image repository, as image_repository() spells it."""
    repository = dict(purl.qualifiers).get("repository_url")
    if purl.type == "docker":
        base = repository or "docker.io"
        path = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
        return image_repository(f"{base}/{path}")[0]
    if purl.type == "oci" and repository:
        return image_repository(f"{repository}/{purl.name}")[0]
    return None


def cpe_fields(text: str) -> list[str]:
    """A CPE name's fields after the prefix (part, vendor, product, version, ...), in either
    binding: cpe:2.3:a:nginx:nginx:1.22.1 or cpe:/a:nginx:nginx:1.22.1."""
    text = text.strip().lower()
    if text.startswith("cpe:2.3:"):
        return text[8:].split(":")
    if text.startswith("cpe:/"):
        return text[5:].split(":")
    return []


def cpe_key(text: str) -> str | None:
    """part:vendor:product, the CPE lookup key; None for what is not a CPE name."""
    fields = cpe_fields(text)
    return ":".join(fields[:3]) if len(fields) >= 3 else None
