"""Apache/nginx-style HTML directory indexes: the names of a folder's entries."""

from __future__ import annotations

import builtins
import urllib.parse
from html.parser import HTMLParser


class _IndexParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: builtins.list[str] = []

    def handle_starttag(self, tag: str, attrs: builtins.list[tuple[str, str | None]]) -> None:
        if tag.lower() == "a":
            for key, value in attrs:
                if key.lower() == "href" and value:
                    self.hrefs.append(value.strip())


def parse_index(html: str, dir_url: str) -> builtins.list[str]:
    """Names of the direct children listed in an HTML directory index at ``dir_url``.

    Keeps ``<a href>`` links that resolve to an entry directly inside ``dir_url``; drops the
    parent link, sort/query links (``?C=N;O=D``), fragments and links elsewhere. Names are
    URL-unquoted, without trailing slash, de-duplicated and sorted.
    """
    if not dir_url.endswith("/"):
        dir_url += "/"
    base = urllib.parse.urlsplit(dir_url)
    base_path = urllib.parse.unquote(base.path)
    parser = _IndexParser()
    parser.feed(html)
    parser.close()
    names: set[str] = set()
    for href in parser.hrefs:
        if href.startswith(("?", "#")):
            continue
        target = urllib.parse.urlsplit(urllib.parse.urljoin(dir_url, href))
        if target.query or target.scheme != base.scheme or target.netloc != base.netloc:
            continue
        path = urllib.parse.unquote(target.path)
        if not path.startswith(base_path):
            continue
        name = path[len(base_path) :].rstrip("/")
        if name and "/" not in name and name not in (".", ".."):
            names.add(name)
    return sorted(names)
