"""Everything a student reads of the catalogued answers: every test's feedback (both catalogs, graded in this process
with a fixed secret) and every self-check report, as one JSON document. tests/test_i18n.py compares it with the
committed English snapshot (tests/data/feedback_en.json.gz: the English course's feedback unchanged byte for byte), and
checks the Chinese course's for English sentences.

    .venv/bin/python tests/feedback_snapshot.py --write   # write the English snapshot again (after a deliberate change)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SNAPSHOT = HERE / "data" / "feedback_en.json.gz"
SECRET = "feedback-snapshot-secret"


def snapshot(language: str = "en", only: list[str] | None = None) -> dict[str, Any]:
    from autograder import selfcheck
    from autograder.authoring.catalog import load_catalog, variant_namespace
    from autograder.i18n import use_language
    from catalog_support import grade_many, reference
    from conftest import ASSIGNMENTS, COURSE, REPO

    out: dict[str, Any] = {}
    with use_language(language, COURSE.root):
        for name, a in ASSIGNMENTS.items():
            if only and name not in only:
                continue
            ref = reference(name)
            namespaces, blanks = {}, {}
            for folder in ("catalog", "catalog_external"):
                catalog = load_catalog(COURSE, a, REPO / folder)
                for kind in ("CORRECT", "MISTAKES"):
                    for i, v in enumerate(getattr(catalog, kind, [])):
                        key = f"{folder}/{kind.lower()}/{v.blank}/{i:02d}"
                        namespaces[key] = variant_namespace(ref, v)
                        blanks[key] = {v.blank}
            graded = grade_many(name, namespaces, SECRET, blanks)
            for key, results in sorted(graded.items()):
                blank = key.split("/")[2]
                out[f"{name}/{key}/tests"] = [[r.name, r.score, r.output] for r in results]
                report = selfcheck.run_checks(namespaces[key][blank], blank)
                out[f"{name}/{key}/selfcheck"] = [[ok, what, why] for ok, what, why in report.lines]
    return out


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def committed() -> dict[str, Any]:
    import gzip

    return json.loads(gzip.decompress(SNAPSHOT.read_bytes()).decode("utf-8"))


def differences(now: dict[str, Any], before: dict[str, Any]) -> list[str]:
    """The entries of ``now`` that are not as in ``before`` (only the keys ``now`` has)."""
    return [key for key in sorted(now) if now[key] != before.get(key)]


if __name__ == "__main__":
    if "--check" in sys.argv:  # --check [ASSIGNMENT ...]: the English feedback of these as committed?
        names = [a for a in sys.argv[sys.argv.index("--check") + 1:] if not a.startswith("-")]
        now, before = snapshot("en", names or None), committed()
        changed = differences(now, before)
        for key in changed[:20]:
            print(f"changed: {key}\n  now:    {json.dumps(now[key], ensure_ascii=False)[:600]}\n"
                  f"  before: {json.dumps(before.get(key), ensure_ascii=False)[:600]}")
        print(f"{len(changed)} of {len(now)} entries changed")
        sys.exit(1 if changed else 0)
    if "--write" in sys.argv:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        import gzip

        SNAPSHOT.write_bytes(gzip.compress(render(snapshot("en")).encode("utf-8"), mtime=0))
        print(f"wrote {SNAPSHOT}")
