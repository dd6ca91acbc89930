"""Store URLs (`--db sqlite:///...`, `--chunks file:///...`): the one place they are built
and parsed.

A path goes into a URL percent-quoted and comes out unquoted, so every byte of a path
survives the trip: `--data-dir '/srv/bk#1'` is `file:///srv/bk%231/chunks`, never
`/srv/bk` with a fragment `1/chunks` (which once made two data dirs share one chunk store).
A parsed URL with a query or fragment is refused rather than silently cut short: a
literal `#`, `?` or `%` in a hand-written URL must be written `%23`, `%3F`, `%25`.
Imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

_SAFE = "/-._~!$&'()*+,;=:@"         # RFC 3986 path characters other than '%', '?', '#'


def path_url(scheme: str, path: Path) -> str:
    """`scheme:///abs/path` with the (absolute) path percent-quoted."""
    path = Path(path).absolute()
    return f"{scheme}://{quote(str(path), safe=_SAFE)}"


def url_path(url: str, scheme: str) -> Path:
    """The absolute path of a `scheme:///abs/path` URL (`scheme://localhost/...` too)."""
    parts = urlsplit(url)
    example = f"{scheme}:///absolute/path"
    if parts.scheme != scheme:
        raise ValueError(f"URL {url!r}: expected {example}")
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise ValueError(f"URL {url!r}: expected {example} (three slashes, then the path)")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError(f"URL {url!r} has a query or fragment: write '#' as %23, "
                         "'?' as %3F and '%' as %25 in a path")
    return Path(unquote(parts.path))


def redacted(url: str) -> str:
    """The URL with any password removed, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{netloc[1]}").geturl()


def sqlite_url(path: Path) -> str:
    return path_url("sqlite", path)


def file_url(path: Path) -> str:
    return path_url("file", path)
