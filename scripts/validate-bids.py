"""Judges a BIDS dataset with the BIDS project's own Python tools.

Two checks, each file by file:
- bidsschematools' validator (the BIDS schema's file-name rules; honours .bidsignore), and
- bids-validator's BIDSValidator.is_bids (the rule set of bids-validator 1.14.7) for every
  file not excluded by .bidsignore (that function reads no .bidsignore itself; the full
  validator does).
Nested datasets under derivatives/ are judged the same way, each with its own .bidsignore.

Usage: python scripts/validate-bids.py DATASET  ->  JSON {"files": N, "rejected": [...]} on
stdout; exit status 1 when any file is rejected.
"""
import json
import os
import sys

from bids_validator import BIDSValidator
from bidsschematools import validator as schema_validator


def ignored(patterns, relative):
    import fnmatch
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        if pattern.endswith("/"):
            if relative.startswith(pattern) or ("/" + pattern) in ("/" + relative):
                return True
        elif fnmatch.fnmatch(os.path.basename(relative), pattern) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


def judge(root):
    root = os.path.abspath(root)
    patterns = []
    if os.path.exists(os.path.join(root, ".bidsignore")):
        patterns = open(os.path.join(root, ".bidsignore")).read().splitlines()
    result = schema_validator.validate_bids(root, report_path=False)
    rejected = {path: "not matched by the BIDS schema (bidsschematools)" for path in result["path_tracking"]
                if "/derivatives/" not in path[len(root):]}
    files = 0
    rules = BIDSValidator()
    for directory, folders, names in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".") and not (directory == root and f == "derivatives")]
        for name in names:
            if name.startswith("."):
                continue
            files += 1
            relative = os.path.relpath(os.path.join(directory, name), root)
            if ignored(patterns, relative):
                continue
            if not rules.is_bids("/" + relative):
                rejected.setdefault(os.path.join(root, relative), "rejected by bids-validator's is_bids")
    nested = os.path.join(root, "derivatives")
    if os.path.isdir(nested):
        for name in sorted(os.listdir(nested)):
            if os.path.exists(os.path.join(nested, name, "dataset_description.json")):
                inner_files, inner_rejected = judge(os.path.join(nested, name))
                files += inner_files
                rejected.update(inner_rejected)
    return files, rejected


def main():
    files, rejected = judge(sys.argv[1])
    print(json.dumps({"files": files, "rejected": [{"path": p, "why": w} for p, w in sorted(rejected.items())]}, indent=1))
    sys.exit(1 if rejected else 0)


if __name__ == "__main__":
    main()
