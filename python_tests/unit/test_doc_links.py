"""The docs are self-contained: every link and every doc citation resolves inside the repository.

- Every relative link in README.md and docs/*.md points to a file or folder of the repository,
  and a `#anchor` to a heading of the target page (GitHub's heading ids).
- Every `docs/<name>.md` or bare `<name>.md` mentioned in the repository's text files
  (.md, .yml, .sql, .py) exists, and every citation of a domain.md section ("domain.md 6.2",
  "domain.md §2", "docs/domain.md sections 4-7", "section 5.1" inside domain.md) names a
  section that docs/domain.md has.

Plain file reads and regular expressions: no dbt, well under a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from driver.project import PROJECT_DIR

REPO = PROJECT_DIR
DOCS = REPO / "docs"
DOMAIN = DOCS / "domain.md"

TEXT_SUFFIXES = {".md", ".yml", ".yaml", ".sql", ".py"}
# Not the project's own text: hidden folders (VCS, environments), build output, raw data.
SKIP_TOP_DIRS = {"target", "data", "warehouse", "dbt_packages", "logs"}
SKIP_DIRS = {"__pycache__", "node_modules"}

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...

# `docs/<name>.md` anywhere, and a bare `<name>.md` that is not part of a longer path or a
# quoted string literal (a file name a program writes, such as "results.md").
DOCS_PATH = re.compile(r"(?<![\w./-])docs/([\w-]+\.md)\b")
BARE_DOC = re.compile(r"(?<![\w./\"'-])([\w-]+\.md)\b")
SECTION_NUMBER = r"\d+(?:\.\d+)?"
# domain.md then a section: "domain.md 6.2", "`domain.md` §3 and §10", "domain.md sections 4-7".
DOMAIN_CITATION = re.compile(
    r"domain\.md`?\s*(?:§\s*|sections?\s+)?(?P<first>" + SECTION_NUMBER + r")"
    r"(?P<more>(?:\s*(?:-|–|,|and)\s*§?\s*" + SECTION_NUMBER + r")*)"
)
# Inside domain.md itself: "section 5.1", "sections 3.3, 3.4".
LOCAL_SECTION_CITATION = re.compile(
    r"\bsections?\s+(?P<first>" + SECTION_NUMBER + r")"
    r"(?P<more>(?:\s*(?:-|–|,|and)\s*" + SECTION_NUMBER + r")*)"
)
DOMAIN_SECTION_HEADING = re.compile(r"^#{2,3}\s+(" + SECTION_NUMBER + r")\.?\s")


def markdown_docs() -> list[Path]:
    """README.md and docs/*.md: the pages a reader follows links in."""
    return [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def text_files() -> Iterator[Path]:
    """The repository's own text files (.md, .yml, .sql, .py), without hidden or built folders."""
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = sorted(
            d
            for d in subfolders
            if not (d.startswith(".") or d in SKIP_DIRS or d.endswith(".egg-info"))
            and not (Path(folder) == REPO and d in SKIP_TOP_DIRS)
        )
        for name in sorted(files):
            if Path(name).suffix in TEXT_SUFFIXES:
                yield Path(folder) / name


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a Markdown file outside fenced code blocks."""
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, line


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: link text kept, punctuation dropped, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every `#anchor` a Markdown page offers: its headings (duplicates numbered) and <a id>."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(path):
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if not match:
            continue
        base = github_anchor(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, target) of every inline and reference link, code spans left out."""
    for number, line in prose_lines(path):
        text = INLINE_CODE.sub("", line)
        for match in INLINE_LINK.finditer(text):
            yield number, match.group(1)
        reference = REFERENCE_LINK.match(text)
        if reference:
            yield number, reference.group(1)


def link_problem(source: Path, target: str) -> str | None:
    """Why `target` (a link in `source`) does not resolve, or None when it does."""
    if EXTERNAL.match(target):
        return None
    file_part, _, anchor = target.partition("#")
    resolved = (source.parent / file_part).resolve() if file_part else source
    if not resolved.is_relative_to(REPO):
        return "points outside the repository"
    if not resolved.exists():
        return f"no such file: {resolved.relative_to(REPO)}"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"no heading with anchor #{anchor} in {resolved.relative_to(REPO)}"
    return None


def domain_sections() -> set[str]:
    """Section numbers of docs/domain.md ('2', '6.2', ...), from its headings."""
    sections: set[str] = set()
    for _, line in prose_lines(DOMAIN):
        match = DOMAIN_SECTION_HEADING.match(line)
        if match:
            sections.add(match.group(1))
    return sections


def cited_sections(first: str, more: str) -> list[str]:
    """The sections of one citation: '4' + '-7' -> 4, 5, 6, 7; '3' + ' and §10' -> 3, 10."""
    numbers = [first, *re.findall(SECTION_NUMBER, more)]
    ranged = re.match(r"\s*[-–]\s*(\d+)$", more)
    if ranged and "." not in first:
        return [str(n) for n in range(int(first), int(ranged.group(1)) + 1)]
    return numbers


def section_problems(path: Path, pattern: re.Pattern[str], known: set[str]) -> Iterator[str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in pattern.finditer(line):
            for section in cited_sections(match.group("first"), match.group("more")):
                if section not in known:
                    where = f"{path.relative_to(REPO)}:{number}"
                    yield f"{where}: cites domain.md section {section}, which it does not have"


def test_markdown_links_resolve() -> None:
    problems: list[str] = []
    checked = 0
    for page in markdown_docs():
        for number, target in links(page):
            checked += 1
            problem = link_problem(page, target)
            if problem:
                problems.append(f"{page.relative_to(REPO)}:{number}: [{target}] {problem}")
    assert checked >= 10, f"only {checked} links in README.md and docs/: is the parser broken?"
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_doc_file_mentions_exist() -> None:
    problems: list[str] = []
    checked = 0
    for path in text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for name in DOCS_PATH.findall(line):
                checked += 1
                if not (DOCS / name).is_file():
                    where = f"{path.relative_to(REPO)}:{number}"
                    problems.append(f"{where}: docs/{name} does not exist")
            for name in BARE_DOC.findall(line):
                checked += 1
                if not ((DOCS / name).is_file() or (REPO / name).is_file()):
                    problems.append(
                        f"{path.relative_to(REPO)}:{number}: {name} is in neither docs/ nor the "
                        "repository root (a file outside the repository?)"
                    )
    assert checked >= 10, f"found only {checked} doc mentions: is the scan broken?"
    assert not problems, "mentions of missing docs:\n" + "\n".join(problems)


def test_domain_section_citations_exist() -> None:
    known = domain_sections()
    assert {"2", "3", "5.1", "6.2", "8"} <= known, f"docs/domain.md sections found: {sorted(known)}"
    problems: list[str] = []
    cited = 0
    for path in text_files():
        cited += len(DOMAIN_CITATION.findall(path.read_text(encoding="utf-8")))
        problems.extend(section_problems(path, DOMAIN_CITATION, known))
    problems.extend(section_problems(DOMAIN, LOCAL_SECTION_CITATION, known))
    assert cited >= 10, f"found only {cited} domain.md citations: is the scan broken?"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("3. Raw tables (dataset `nba_raw`)", "3-raw-tables-dataset-nba_raw"),
        ("Injected messiness", "injected-messiness"),
        ("The [report](validation.md), *in short*", "the-report-in-short"),
    ],
)
def test_github_anchor(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor


@pytest.mark.parametrize(
    ("first", "more", "sections"),
    [("4", "-7", ["4", "5", "6", "7"]), ("3", " and §10", ["3", "10"]), ("6.2", "", ["6.2"])],
)
def test_cited_sections(first: str, more: str, sections: list[str]) -> None:
    assert cited_sections(first, more) == sections


def test_a_broken_link_is_reported() -> None:
    page = DOCS / "domain.md"
    assert str(link_problem(page, "no_such_page.md")).startswith("no such file:")
    assert link_problem(page, "#no-such-heading") is not None
    assert link_problem(page, "../../outside.md") == "points outside the repository"
    assert link_problem(page, "#2-identifiers") is None
