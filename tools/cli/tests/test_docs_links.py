"""The documentation stands alone: every relative link resolves inside the repository.

A fresh clone has nothing beside it, so a Markdown link to a file that is not in
the repository (or to a heading that is not in the file), and any mention of a
folder beside the repository, is a broken promise to the reader.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DOC_GLOBS = (
    "README.md",
    "docs/*.md",
    "deploy/README.md",
    "services/*/README.md",
    "tools/*/README.md",
    "web/README.md",
)
# Built in pieces so that this file is not itself a mention.
OUTSIDE_MENTIONS = (".." + "/shared", "/work" + "/shared", "/work" + "/main")
SKIPPED_DIRS = {"node_modules", "__pycache__", "build", "dist"}
TEXT_SUFFIXES = {
    ".md", ".py", ".toml", ".ini", ".cfg", ".txt", ".yml", ".yaml", ".json", ".sh",
    ".html", ".js", ".css", ".conf", ".template", ".mako", ".example", ".dockerignore",
}  # fmt: skip
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".gitignore"}

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def doc_files() -> list[Path]:
    return sorted({path for pattern in DOC_GLOBS for path in ROOT.glob(pattern)})


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks, with inline code removed."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, INLINE_CODE.sub("", line)


def links(text: str) -> Iterator[tuple[int, str]]:
    for number, line in prose_lines(text):
        for match in INLINE_LINK.finditer(line):
            yield number, match.group(1)
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            yield number, definition.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = HEADING.match(line)
        if fenced or not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for number, target in links(path.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(root)}:{number}: {target}"
        if not resolved.exists():
            problems.append(f"{where} (no such file)")
        elif not resolved.is_relative_to(root.resolve()):
            problems.append(f"{where} (outside the repository)")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{where} (no such heading)")
    return problems


def repository_text_files() -> Iterator[Path]:
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        hidden = [part for part in relative.parts[:-1] if part.startswith(".") and part != ".ci"]
        if hidden or SKIPPED_DIRS.intersection(relative.parts) or not path.is_file():
            continue
        if any(part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            yield path


def test_the_documents_exist() -> None:
    names = {str(path.relative_to(ROOT)) for path in doc_files()}
    assert {"README.md", "docs/architecture.md", "docs/events.md"} <= names


@pytest.mark.parametrize("path", doc_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(path: Path) -> None:
    assert broken_links(path) == []


def test_the_readme_links_the_architecture() -> None:
    targets = {target for _, target in links((ROOT / "README.md").read_text(encoding="utf-8"))}
    assert "docs/architecture.md" in targets


def test_no_file_mentions_a_folder_beside_the_repository() -> None:
    mentions = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in repository_text_files()
        for needle in OUTSIDE_MENTIONS
        if needle in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert mentions == []


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "beside.md").write_text("# Beside\n", encoding="utf-8")
    (root / "other.md").write_text("# Other\n", encoding="utf-8")
    page = root / "page.md"
    page.write_text(
        "# Title\n\n## Two words\n\n"
        "[ok](#two-words) [gone](#nowhere) [missing](absent.md) [web](https://example.com)\n"
        "`[code](absent-too.md)` [beside](../beside.md) ![img](other.md#other)\n\n"
        "```\n[fenced](absent-three.md)\n```\n"
        "[ref]: other.md#no-such\n",
        encoding="utf-8",
    )
    assert broken_links(page, root) == [
        "page.md:5: #nowhere (no such heading)",
        "page.md:5: absent.md (no such file)",
        "page.md:6: ../beside.md (outside the repository)",
        "page.md:11: other.md#no-such (no such heading)",
    ]
    assert anchors(page) == {"title", "two-words"}
    assert slug("7. HTTP contract") == "7-http-contract"
    assert slug("3. Inside a service (hexagonal)") == "3-inside-a-service-hexagonal"
    assert slug("Stripe API (`/v1`, any `Bearer sk_test_...` key)") == (
        "stripe-api-v1-any-bearer-sk_test_-key"
    )
