"""API conformance: Schemathesis against the OpenAPI document of a running demo town, once per
subject (anonymous, each role's demo login — every site post among them — and a machine
client's API token), every operation, every phase.

The checks are the ones that test the document's promises, not business rules: no server error
(5xx), every status the document lists for the operation, the documented content type and
headers, bodies matching their schemas, and requests the schema forbids refused. A test that
sends valid data and is refused for a business reason (a full slot, a closed day) is not a
contradiction, so `positive_data_acceptance` is left out; `use_after_free` and
`ensure_resource_availability` need OpenAPI links, which the document does not declare.

Usage: conformance.py --schemathesis BIN --base URL --logins FILE --work DIR
                      [--max-examples N] [--seed S] [--only SUBJECT] [--backend NAME]
`--logins` is the demo's printed list of logins. The last line printed is one JSON object; the
exit status is 1 when any server error, contradiction or Schemathesis error was found. Each
subject's full report is SUBJECT.log (with a curl line reproducing every failure) and
SUBJECT.json in the work directory.

The server under test should have a large budget for unknown tokens
(`web.limits.bad_token_per_client`): the `ignored_auth` check sends an invalid token to every
operation for every subject, all from one address, and the default budget (60, then 30 a
minute: what stops guessing, proven by the web tests) would answer most of them 429.
"""

import argparse
import http.cookiejar
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "positive_data_acceptance",
]
# Data the schema allows may still be refused for what the caller may do (401, 403), for what
# is there (404; 409: a full slot, a closed day, a key in flight; 422: a field naming nothing,
# a date already past) and for pace (429) — never as unreadable (400): a limit the server
# enforces that the document does not state is a contradiction.
ACCEPTED = ["2xx", "401", "403", "404", "409", "422", "429"]
DEMO_PASSWORD = "vaxloop-demo"
DEMO_PIN = "123456"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener():
    jar = http.cookiejar.CookieJar()
    return jar, urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), NoRedirect()
    )


def fetch(op, url, data=None):
    try:
        with op.open(url, data=data, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
HX_CSRF = re.compile(r'"X-CSRF-Token": "([0-9a-f]+)"')


def log_in(base, login, password):
    """A session as `login`: its cookies and the session's CSRF token."""
    jar, op = opener()
    status, page = fetch(op, base + "/login")
    token = CSRF.search(page)
    if status != 200 or not token:
        sys.exit(f"the login page answered {status} without a form")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "login": login, "password": password}
    ).encode()
    status, _ = fetch(op, base + "/login", form)
    if status != 303:
        sys.exit(f"logging in as {login} answered {status}")
    status, page = fetch(op, base + "/api/v1/me")
    me = json.loads(page)
    # The home page may send a role on to its own thing (a leader's group): follow it.
    follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, page = fetch(follow, base + me["home"])
    token = HX_CSRF.search(page)
    if not token:
        sys.exit(f"{login}'s home page {me['home']} ({status}) carries no CSRF token")
    session = next(c.value for c in jar if c.name == "vaxloop_session")
    return me, session, token.group(1)


def subjects(base, logins_file):
    """(name, credentials, headers) per subject: anonymous and every demo login (the session
    cookie as the document's `session` scheme, its CSRF token as a header)."""
    out = [("anonymous", None, [])]
    row = re.compile(r"^  (\w+)\s+(\S+)\s+(.*)$")
    seen = set()
    for line in open(logins_file, encoding="utf-8"):
        m = row.match(line.rstrip("\n"))
        if not m:
            continue
        role, login, rest = m.groups()
        password = DEMO_PIN if rest.startswith("PIN") else DEMO_PASSWORD
        me, session, csrf = log_in(base, login, password)
        name = role + (f"-{me['site_post']}" if me.get("site_post") else "")
        if name in seen:
            continue
        seen.add(name)
        out.append((name, ("session", "api_key", session), [f"X-CSRF-Token: {csrf}"]))
    return out


def admin_token(base, logins_file, role, scope, post):
    """An API token made by the admin on /admin/tokens, as a machine client would get it."""
    admin = next(
        line.split()[1]
        for line in open(logins_file, encoding="utf-8")
        if line.startswith("  admin ")
    )
    jar, op = opener()
    _, session, csrf = log_in(base, admin, DEMO_PASSWORD)
    op.addheaders = [("Cookie", f"vaxloop_session={session}")]
    name = f"conformance-{role}-{int(time.time())}"
    form = urllib.parse.urlencode(
        {"csrf_token": csrf, "name": name, "role": role, "scope": scope, "post": post, "days": "1"}
    ).encode()
    status, page = fetch(op, base + "/admin/tokens", form)
    token = re.search(r"(vxl_[0-9a-f]{64})", page)
    if not token:
        sys.exit(f"making an API token answered {status} without one")
    return token.group(1)


def failures_of(report):
    """(type, title, count, operations) of every kind of failure the JSON report holds."""
    return [
        (f["type"], f["title"], f["count"], f.get("operations", []))
        for f in report.get("failures", [])
    ]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--schemathesis", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--logins", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--max-examples", type=int, default=50)
    p.add_argument("--seed", type=int, default=2021)
    p.add_argument("--only", default="")
    p.add_argument("--backend", default="sqlite")
    args = p.parse_args()

    people = subjects(args.base, args.logins)
    token = admin_token(args.base, args.logins, "desk", "", "")
    people.append(("token-desk", ("bearer", "bearer", token), []))
    totals = {"subjects": 0, "operations": 0, "test_cases": 0, "server_errors": 0,
              "contradictions": 0, "errors": 0}
    per_subject = []
    for name, credentials, headers in people:
        if args.only and name != args.only:
            continue
        path = f"{args.work}/{name}.json"
        # The credentials as the scheme the document names, so Schemathesis knows which one
        # it holds and probes the others without it.
        config = f"{args.work}/{name}.toml"
        with open(config, "w", encoding="utf-8") as f:
            statuses = ", ".join(f'"{s}"' for s in ACCEPTED)
            f.write(f"[checks.positive_data_acceptance]\nexpected-statuses = [{statuses}]\n\n")
            if credentials:
                scheme, field, value = credentials
                f.write(f'[auth.openapi.{scheme}]\n{field} = "{value}"\n')
        cmd = [
            args.schemathesis, "--config-file", config, "run", f"{args.base}/api/openapi.json",
            "--url", args.base,
            "--checks", ",".join(CHECKS),
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", "1",
            "--suppress-health-check", "all",
            "--continue-on-failure",
            "--report", "json", "--report-json-path", path,
        ]
        for h in headers:
            cmd += ["-H", h]
        started = time.monotonic()
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=args.work)
        seconds = time.monotonic() - started
        with open(f"{args.work}/{name}.log", "w", encoding="utf-8") as f:
            f.write(run.stdout + run.stderr)
        try:
            report = json.load(open(path, encoding="utf-8"))
        except (OSError, ValueError):
            sys.exit(f"{name}: Schemathesis wrote no report (exit {run.returncode}); see {name}.log")
        failures = failures_of(report)
        server = sum(c for t, _, c, _ in failures if t == "ServerError")
        other = sum(c for t, _, c, _ in failures if t != "ServerError")
        errors = len(report.get("errors", []))
        cases = report["test_cases"]["generated"]
        operations = report["operations"]["tested"]
        totals["subjects"] += 1
        totals["operations"] += operations
        totals["test_cases"] += cases
        totals["server_errors"] += server
        totals["contradictions"] += other
        totals["errors"] += errors
        print(
            f"{name:<24} {operations:>4} ops {cases:>6} cases {server:>4} 5xx "
            f"{other:>4} contradictions {errors:>3} errors  {seconds:6.1f} s",
            flush=True,
        )
        for t, title, count, ops in failures:
            print(f"    {count:>4} × {title} ({t}): {', '.join(ops[:6])}  — see {name}.log")
        per_subject.append(
            {"subject": name, "operations": operations, "test_cases": cases,
             "server_errors": server, "contradictions": other, "errors": errors,
             "seconds": round(seconds, 1)}
        )
    summary = {"benchmark": "api", "backend": args.backend, **totals,
               "max_examples": args.max_examples, "per_subject": per_subject}
    with open(f"{args.work}/summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f)
    print(json.dumps(summary))
    if totals["server_errors"] or totals["contradictions"] or totals["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
