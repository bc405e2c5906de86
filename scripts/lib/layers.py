"""The crates' arrows (ARCHITECTURE.md), checked against `cargo metadata`: each workspace crate's
normal dependencies on other vaxloop crates must be among those it may use. Dev-dependencies are
free (tests set up and inspect through the store). Reads the metadata JSON on stdin."""

import json
import sys

MAY_USE = {
    "vaxloop-core": set(),
    "vaxloop-planner": {"vaxloop-core"},
    "vaxloop-roster": {"vaxloop-core"},
    "vaxloop-sim": {"vaxloop-core"},
    "vaxloop-documents": {"vaxloop-core"},
    "vaxloop-store": {"vaxloop-core"},
    "vaxloop-app": {
        "vaxloop-core",
        "vaxloop-store",
        "vaxloop-planner",
        "vaxloop-sim",
        "vaxloop-documents",
    },
    # HTTP only: web talks to the application, never to the store or the planner.
    "vaxloop-web": {"vaxloop-core", "vaxloop-app", "vaxloop-documents"},
    "vaxloop-demo": {"vaxloop-core", "vaxloop-store", "vaxloop-app"},
}

metadata = json.load(sys.stdin)
wrong = []
for package in metadata["packages"]:
    allowed = MAY_USE.get(package["name"])
    if allowed is None:  # the binary and the benchmarks may use everything
        continue
    for dep in package["dependencies"]:
        name = dep["name"]
        if name.startswith("vaxloop") and dep["kind"] is None and name not in allowed:
            wrong.append(f"{package['name']} depends on {name}")
if wrong:
    print("error: crate layering broken (see ARCHITECTURE.md):", file=sys.stderr)
    for line in wrong:
        print(f"  {line}", file=sys.stderr)
    sys.exit(1)
print("crate layering ok: web talks to app only; pure crates use nothing but core")
