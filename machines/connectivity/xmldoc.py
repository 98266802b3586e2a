"""Safe parsing of the XML an MTConnect agent sends.

An agent's document is untrusted input from the shop network. It is refused when it is over a size cap or
declares a DTD (MTConnect documents never do; a DTD is how entity bombs and external entities get in), and it
is parsed with entity expansion and network access off. Real agents do send documents that use a vendor
namespace prefix they never declare (an extension data item type such as `x:FILTER` rendered as `<x:Filter>`):
libxml2's recover mode reads them, and that is the only fault let through — any other error (a truncated or
malformed document) is an error, never a silently repaired tree.
"""

import re
from dataclasses import dataclass

from lxml import etree

# A /sample of 1,000 observations is ~200 KB; /probe of a large multi-device agent ~1 MB.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024

# Any DTD at all: `<!DOCTYPE` (internal subset with `<!ENTITY`, or an external one).
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


class DocumentError(Exception):
    """The agent's document cannot be used: too big, malformed, truncated, or not safe to parse."""


@dataclass(frozen=True, slots=True)
class Document:
    root: etree._Element
    warnings: tuple[str, ...] = ()  # faults tolerated on the way (undeclared vendor prefixes)


def parse(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    if len(data) > max_bytes:
        raise DocumentError(f"document of {len(data)} bytes is over the {max_bytes}-byte cap")
    if _DTD.search(data):
        raise DocumentError("document declares a DTD or entities; refused unparsed")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"malformed document: {exc}") from exc
    errors = list(parser.error_log)
    fatal = [e for e in errors if e.domain != etree.ErrorDomains.NAMESPACE]
    if root is None or fatal:
        first = fatal[0] if fatal else None
        where = f" (line {first.line}: {first.message})" if first else ""
        raise DocumentError(f"malformed or truncated document{where}")
    # The reader logs these (once per agent, not per document).
    return Document(root=root, warnings=tuple(sorted({e.message for e in errors})))


def local_name(element: etree._Element) -> str:
    """The element's name without namespace or prefix: `{urn:...:1.3}Execution`, `Execution` and `x:Filter`
    (an undeclared prefix, kept in the name by recover mode) become `Execution` and `Filter`."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def descendants(element: etree._Element, name: str) -> list[etree._Element]:
    return [node for node in element.iter() if local_name(node) == name]
