"""The README's error table, docs/limits.md and the one error table in services/ agree.

Clients in other languages read the README to learn which (code, reason) pairs exist.
Every reason a domain error can carry must be in the README table on the row of the
status code services/errors.py gives it, no row may name a reason that no error carries,
and every "CODE `REASON`" pair the docs mention must be the pair the server sends. A base
class that only groups reasons (ResourceExhausted) needs no row until code raises it.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import grpc

from blockstore import errors as e
from services.errors import status_code

REPO = Path(__file__).resolve().parent.parent
CODES = "|".join(c.name for c in grpc.StatusCode)
ROW = re.compile(rf"^\| `({CODES})` \| (.*) \|$")
REASON = re.compile(r"`([A-Z][A-Z0-9_]+)`")
PAIR = re.compile(rf"\b({CODES})`? `([A-Z][A-Z0-9_]+)`")
SERVER_CODE = ("blockstore", "services", "control_plane", "data_plane", "manifest",
               "chunkstore", "ebs_facade")


def domain_classes() -> list[type[e.BlockstoreError]]:
    return [cls for cls in vars(e).values() if inspect.isclass(cls)
            and issubclass(cls, e.BlockstoreError) and cls.__module__ == e.__name__]


def raised_directly(cls: type) -> bool:
    """Whether server code constructs `cls` itself (not only its subclasses)."""
    call = re.compile(rf"(?<![\w.])(?:e\.|errors\.)?{cls.__name__}\(")
    return any(call.search(line) and not line.lstrip().startswith("class ")
               for d in SERVER_CODE for p in (REPO / d).rglob("*.py") if "v1" not in p.parts
               for line in p.read_text().splitlines())


def domain_pairs() -> dict[str, set[str]]:
    """reason -> status code names, for every error class blockstore.errors defines,
    except bases that only group their subclasses and are never raised as such."""
    classes = domain_classes()
    pairs: dict[str, set[str]] = {}
    for cls in classes:
        grouping = any(c is not cls and issubclass(c, cls) for c in classes)
        if grouping and not raised_directly(cls):
            continue
        pairs.setdefault(cls.reason, set()).add(status_code(cls("x")).name)
    return pairs


def readme_pairs() -> dict[str, set[str]]:
    text = (REPO / "README.md").read_text()
    table = text[text.index("| code | reasons |"):]
    pairs: dict[str, set[str]] = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        match = ROW.match(line)
        assert match, f"README error table row not understood: {line}"
        code, cell = match.groups()
        # Reasons are the backticked names before any parenthesis opened in the cell.
        depth, names = 0, []
        for token in re.split(r"([()])", cell):
            depth += {"(": 1, ")": -1}.get(token, 0)
            if depth == 0:
                names += REASON.findall(token)
        for name in names:
            pairs.setdefault(name, set()).add(code)
    return pairs


def test_every_reason_is_in_the_readme_table_with_its_code():
    domain, readme = domain_pairs(), readme_pairs()
    missing = {r: c for r, c in domain.items() if not c <= readme.get(r, set())}
    assert not missing, f"README error table lacks (reason: codes): {missing}"


def test_the_readme_table_names_only_reasons_the_server_sends():
    domain, readme = domain_pairs(), readme_pairs()
    extra = {r: c - domain.get(r, set()) for r, c in readme.items()
             if c - domain.get(r, set())}
    assert not extra, f"README error table rows no error carries (reason: codes): {extra}"


def test_code_reason_pairs_in_the_docs_are_the_ones_sent():
    domain = domain_pairs()
    wrong = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for code, reason in PAIR.findall(doc.read_text()):
            if reason in domain and code not in domain[reason]:
                wrong.append(f"{doc.name}: {code} {reason} (sent as {domain[reason]})")
    assert not wrong, "\n".join(wrong)



def test_every_limit_reason_is_explained_in_docs_limits():
    """Refusals a client should wait out or split (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED,
    and the size bounds) are limits: docs/limits.md says what they bound and why."""
    limits = (REPO / "docs" / "limits.md").read_text()
    bounds = {e.StreamTooLong.reason, e.DownloadTooLarge.reason}
    reasons = {r for r, codes in domain_pairs().items()
               if codes & {"RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"} or r in bounds}
    missing = sorted(r for r in reasons if f"`{r}`" not in limits)
    assert not missing, f"docs/limits.md does not explain: {missing}"
