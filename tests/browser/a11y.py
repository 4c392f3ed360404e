"""The accessibility crawl: every page a persona reaches by following links, checked by axe-core.

``crawl(page, ["/"])`` starts where a person starts, follows same-origin links breadth-first and,
on each HTML page, runs axe-core (WCAG 2.0/2.1 A and AA rules, through axe-playwright-python,
which ships axe-core's own script) at a desktop size and measures the page at a phone's width.
Pages are discovered, not listed, so a page that a new navigation link leads to is checked
without touching this module. The crawl is bounded: at most ``MAX_PER_SHAPE`` addresses of one
shape (``/registry/17/`` and ``/registry/23/`` are one shape, so are ``?page=2`` and ``?page=3``)
and at most ``limit`` pages in all.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error, Page

WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_AA_TAGS},
               "resultTypes": ["violations"]}
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MAX_PER_SHAPE = 1
# Not pages: files, JSON, the admin (Django's own screens), logging out, the API itself (its
# documentation page is a page and stays in).
NOT_A_PAGE = re.compile(
    r"^/(admin/|logout/|api/(?!v1/docs/))"
    r"|[./](xlsx|csv|json|zip|pdf)/?$|/(download|status|progress)/$|/export\b"
)

_axe = Axe()

# Where the page is wider than the screen, which elements stick out (for the failure message).
OVERFLOW_SCRIPT = """async () => {
  // Two frames: charts and scripts that listen for "resize" have redrawn by then.
  for (let i = 0; i < 2; i++) await new Promise(done => requestAnimationFrame(done));
  const width = window.innerWidth;
  const root = document.documentElement;
  if (root.scrollWidth <= width) return null;
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 0.5 || box.width === 0) continue;
    let clipped = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== 'visible' && up.getBoundingClientRect().right <= width + 0.5) {
        clipped = true; break;
      }
    }
    if (clipped) continue;
    const parentBox = el.parentElement ? el.parentElement.getBoundingClientRect() : null;
    if (parentBox && parentBox.right > width + 0.5 && el.parentElement !== document.body) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string'
         ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    culprits.push(name + ' → ' + Math.round(box.right) + 'px');
    if (culprits.length >= 5) break;
  }
  return {scrollWidth: root.scrollWidth, culprits};
}"""

LINKS_SCRIPT = "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"


@dataclass
class PageResult:
    """What one page showed: its status, axe's violations and how wide it was on a phone."""

    path: str
    status: int
    violations: list[dict] = field(default_factory=list)
    phone_overflow: dict | None = None


@dataclass
class CrawlResult:
    pages: list[PageResult] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.pages]

    def problems(self) -> list[str]:
        """One readable line (and axe's targets) per thing to fix; empty when all is well."""
        lines = []
        for page in self.pages:
            if page.status >= 400:
                lines.append(f"{page.path}: HTTP {page.status} behind a link")
            for v in page.violations:
                lines.append(f"{page.path}: {v['id']} ({v['impact']}) ×{len(v['nodes'])}: "
                             f"{v['help']} — {_nodes(v['nodes'])}")
            if page.phone_overflow:
                o = page.phone_overflow
                culprits = ", ".join(o["culprits"]) or "no single element sticks out"
                lines.append(f"{page.path}: {o['scrollWidth']}px wide at {PHONE['width']}px: "
                             f"{culprits}")
        return lines


def _nodes(nodes: list[dict]) -> str:
    """The first few elements axe named, each with why it failed (colours, missing name...)."""
    shown = []
    for node in nodes[:3]:
        why = [check["message"] for check in node.get("any", []) + node.get("all", [])]
        shown.append(" ".join(node["target"]) + (f" [{why[0]}]" if why else ""))
    return "; ".join(shown)


def shape(path: str) -> str:
    """The address with its numbers and query values blanked: one shape, one kind of page."""
    parts = urlsplit(path)
    keys = sorted(q.split("=", 1)[0] for q in parts.query.split("&") if q)
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def local_path(url: str, origin: str) -> str | None:
    """``url`` as a path on this site, or None when it is elsewhere or not a page."""
    url = urldefrag(url).url
    if not url.startswith(origin + "/"):
        return None
    path = url[len(origin):]
    return None if NOT_A_PAGE.search(urlsplit(path).path) else path


def check_page(page: Page, path: str, in_flight: set, *,
               phone_axe: bool = False) -> PageResult | None:
    """Open ``path`` at desktop size, run axe, then measure it at a phone's width (and, with
    ``phone_axe``, run axe there too: the start pages, which show the phone's menu button).

    None when the address turns out to be a file download rather than a page. A page that is
    still fetching after "load" (Swagger UI reads the schema, an export polls its status) is
    checked once the network is quiet, as a person would see it."""
    page.set_viewport_size(DESKTOP)
    try:
        response = page.goto(path, wait_until="load")
    except Error as error:
        if "Download is starting" in error.message:
            return None
        raise
    if in_flight:
        page.wait_for_load_state("networkidle")
    status = response.status if response else 0
    result = PageResult(path=path, status=status)
    if status >= 400 or "html" not in (response.headers.get("content-type", "") if response
                                       else ""):
        return result
    result.violations = axe_violations(page)
    page.set_viewport_size(PHONE)
    result.phone_overflow = page.evaluate(OVERFLOW_SCRIPT)
    if phone_axe:
        result.violations += [{**v, "help": f"{v['help']} (at {PHONE['width']}px)"}
                              for v in axe_violations(page)]
    return result


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    return _axe.run(page, options=AXE_OPTIONS).response["violations"]


def crawl(page: Page, start: list[str], *, origin: str, limit: int = 30) -> CrawlResult:
    """Check every page reachable from ``start`` by links, breadth-first, within the bounds.

    A page of a shape not seen yet goes before a second page of a known shape, so the bound
    cuts repeats (another institution, another month), not kinds of page."""
    fresh, repeats, seen, shapes = deque(start), deque(), set(start), {}
    result = CrawlResult()
    in_flight: set = set()
    page.on("request", lambda request: in_flight.add(request))
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    while (fresh or repeats) and len(result.pages) < limit:
        path = (fresh or repeats).popleft()
        checked = check_page(page, path, in_flight, phone_axe=path in start)
        if checked is None:
            continue
        result.pages.append(checked)
        if checked.status >= 400:
            continue
        for url in page.evaluate(LINKS_SCRIPT):
            found = local_path(url, origin)
            if found is None or found in seen:
                continue
            seen.add(found)
            count = shapes.get(shape(found), 0)
            if count >= MAX_PER_SHAPE:
                continue
            shapes[shape(found)] = count + 1
            (repeats if count else fresh).append(found)
    return result
