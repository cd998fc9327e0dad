#!/usr/bin/env python3
"""grafana-expand.py - the SQL Grafana would send to PostgreSQL for a
dashboard's panels and variables, for a given time range and variable
values, so that tests can run it without Grafana.

    grafana-expand.py list DASHBOARD
        one line per panel query: panel ID, refId, format, panel type,
        title (tab-separated); then one per query variable: "var", name
    grafana-expand.py sql DASHBOARD (panel ID | var NAME)
        --from TIME --to TIME [--var NAME=VALUE]... [--interval DUR]
        the expanded SQL of that panel's (first) query or that variable

TIME is ISO 8601 (2026-11-01T00:00:00Z).  --var NAME=VALUE sets a
variable; given several times, a multi-value variable takes each value;
VALUE $__all is All.  --interval is $__interval (Grafana computes it from
the range and the panel's width; give it when a query uses it).

The expansion follows Grafana's own, in its order:
1. the front end interpolates the dashboard's variables: for the SQL
   data sources, a multi-value or include-All variable's values are each
   quoted ('a','b', a quote doubled), a custom All value goes in as it
   is, a single-value variable's value bare;
2. the back end's global substitutions (pkg/tsdb/sqleng):
   $__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo();
3. the PostgreSQL data source's macros (pkg/tsdb/grafana-postgresql-
   datasource/macros.go): $__time, $__timeEpoch, $__timeFilter,
   $__timeFrom, $__timeTo, $__timeGroup, $__timeGroupAlias,
   $__unixEpochFilter, $__unixEpochNanoFilter, $__unixEpochNanoFrom,
   $__unixEpochNanoTo, $__unixEpochGroup, $__unixEpochGroupAlias; like
   Grafana, anything else of the form $name(...) is an error.
Python standard library only.
"""

import datetime
import decimal
import json
import re
import sys

ALL = "$__all"


def fail(msg):
    sys.stderr.write("grafana-expand.py: %s\n" % msg)
    sys.exit(2)


# ---- The dashboard

def walk_panels(panels):
    for p in panels or []:
        yield p
        # Panels inside a collapsed row.
        for q in walk_panels(p.get("panels")):
            yield q


def panel_queries(dash):
    for p in walk_panels(dash.get("panels")):
        for t in p.get("targets") or []:
            if "rawSql" in t:
                yield p, t


def variables(dash):
    return (dash.get("templating") or {}).get("list") or []


# ---- Times and durations

def parse_time(s):
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        fail("not an ISO 8601 time: %r" % s)
    if t.tzinfo is None:
        fail("time without a zone: %r" % s)
    return t.astimezone(datetime.timezone.utc)


def rfc3339nano(t):
    """Go's time.RFC3339Nano of a UTC time: no trailing zeros."""
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += "." + ("%06d" % t.microsecond).rstrip("0")
    return s + "Z"


def unix(t):
    """Go's Time.Unix(): whole seconds, rounded down."""
    return unix_nano(t) // 10**9


def unix_nano(t):
    d = t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (d.days * 86400 + d.seconds) * 10**9 + d.microseconds * 1000


GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1,
            "m": 60, "h": 3600}


def parse_interval(s, now):
    """gtime.ParseInterval: N[dwMy] (calendar, from now, in UTC) or a Go
    duration (1h30m, 90s, 500ms); in seconds."""
    m = re.fullmatch(r"(\d+)([dwMy])", s)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if unit in "dw":
            return float(n * (7 if unit == "w" else 1) * 86400)
        months = n if unit == "M" else 12 * n
        y, mo = divmod(now.month - 1 + months, 12)
        day = now.day
        # Go's AddDate normalizes an overflowing day into the next month.
        base = datetime.datetime(now.year + y, mo + 1, 1, tzinfo=now.tzinfo)
        later = base + datetime.timedelta(days=day - 1)
        later = later.replace(hour=now.hour, minute=now.minute,
                              second=now.second, microsecond=now.microsecond)
        return (later - now).total_seconds()
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)", s)
    if not parts or "".join(a + b for a, b in parts) != s.lstrip("+"):
        fail("invalid interval %r" % s)
    return sum(float(a) * GO_UNITS[b] for a, b in parts)


def go_float(x):
    """Go's %v of a float64: the shortest digits, exponent form when the
    exponent is below -4 or at least 6 (1e+06, 2.592e+06, 86400, 0.5)."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d = decimal.Decimal(repr(abs(x))).normalize()
    _, digits, exp = d.as_tuple()
    digits = "".join(map(str, digits))
    dp = len(digits) + exp
    e = dp - 1
    if e < -4 or e >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, mant, "-" if e < 0 else "+", abs(e))
    if dp <= 0:
        return sign + "0." + "0" * -dp + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


def format_interval(sec):
    """gtime.FormatInterval."""
    ms = int(round(sec * 1000))
    for unit, n in (("y", 365 * 86400000), ("d", 86400000),
                    ("h", 3600000), ("m", 60000), ("s", 1000),
                    ("ms", 1)):
        if ms >= n:
            return "%d%s" % (ms // n, unit)
    return "1ms"


# ---- 1. Dashboard variables (front end)

VAR_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|"
                    r"\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")


def quote_literal(v):
    return "'" + v.replace("'", "''") + "'"


def format_variable(var, values):
    multi = var.get("multi") or var.get("includeAll")
    if values == [ALL]:
        if not var.get("includeAll"):
            fail("variable %s has no All" % var["name"])
        if var.get("allValue"):
            return var["allValue"]
        fail("All of %s needs its values: give them with --var"
             % var["name"])
    if len(values) > 1 or (multi and values):
        return ",".join(quote_literal(v) for v in values)
    if not values:
        fail("variable %s has no value" % var["name"])
    return values[0].replace("'", "''")


def interpolate_variables(sql, dash, values, t_from, t_to, interval):
    defined = {v["name"]: v for v in variables(dash)}
    builtin = {
        "__from": str(unix_nano(t_from) // 10**6),
        "__to": str(unix_nano(t_to) // 10**6),
    }
    if interval is not None:
        builtin["__interval"] = format_interval(interval)
        builtin["__interval_ms"] = str(int(round(interval * 1000)))

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        if name in builtin:
            return builtin[name]
        if name not in defined:
            # A macro, or no variable: left as it is.
            return m.group(0)
        if fmt:
            fail("variable format %s of %s is not handled" % (fmt, name))
        if name not in values:
            fail("no value for variable %s: give it with --var" % name)
        return format_variable(defined[name], values[name])

    return VAR_RE.sub(repl, sql)


# ---- 2. and 3. The back end

MACRO_RE = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


def interpolate_global(sql, t_from, t_to, interval):
    if interval is None and "$__interval" in sql:
        fail("the query uses $__interval: give --interval")
    if interval is not None:
        sql = sql.replace("$__interval_ms", str(int(round(interval * 1000))))
        sql = sql.replace("$__interval", format_interval(interval))
    sql = sql.replace("$__unixEpochFrom()", str(unix(t_from)))
    return sql.replace("$__unixEpochTo()", str(unix(t_to)))


def macro(name, args, t_from, t_to, now):
    f, t = rfc3339nano(t_from), rfc3339nano(t_to)

    def need(n):
        if len(args) < n or (n == 1 and args[0] == ""):
            fail("macro $%s needs %d argument(s)" % (name, n))

    def group(fmt):
        need(2)
        sec = go_float(parse_interval(args[1].strip("'"), now))
        return fmt % (args[0], sec, sec)

    if name == "__time":
        need(1)
        return '%s AS "time"' % args[0]
    if name == "__timeEpoch":
        need(1)
        return 'extract(epoch from %s) as "time"' % args[0]
    if name == "__timeFilter":
        need(1)
        return "%s BETWEEN '%s' AND '%s'" % (args[0], f, t)
    if name == "__timeFrom":
        return "'%s'" % f
    if name == "__timeTo":
        return "'%s'" % t
    # A third argument (fill) changes the answer's frames, not the SQL.
    if name == "__timeGroup":
        return group("floor(extract(epoch from %s)/%s)*%s")
    if name == "__timeGroupAlias":
        return group("floor(extract(epoch from %s)/%s)*%s") + ' AS "time"'
    if name == "__unixEpochFilter":
        need(1)
        return "%s >= %d AND %s <= %d" % (args[0], unix(t_from), args[0],
                                          unix(t_to))
    if name == "__unixEpochNanoFilter":
        need(1)
        return "%s >= %d AND %s <= %d" % (args[0], unix_nano(t_from),
                                          args[0], unix_nano(t_to))
    if name == "__unixEpochNanoFrom":
        return str(unix_nano(t_from))
    if name == "__unixEpochNanoTo":
        return str(unix_nano(t_to))
    if name == "__unixEpochGroup":
        return group("floor((%s)/%s)*%s")
    if name == "__unixEpochGroupAlias":
        return group("floor((%s)/%s)*%s") + ' AS "time"'
    fail("unknown macro %r" % name)


def interpolate_macros(sql, t_from, t_to, now):
    original = sql

    def repl(m):
        name = m.group(1)
        # Grafana: $__timeGroup(...) right before a comma is taken as
        # $__timeGroupAlias, as before version 5.3 (the first occurrence
        # of the same text decides).
        if name == "__timeGroup":
            i = original.find(m.group(0))
            if i >= 0:
                i += len(m.group(0))
                if i < len(original) and original[i] == ",":
                    name = "__timeGroupAlias"
        args = [a.strip(" ") for a in m.group(2).split(",")]
        return macro(name, args, t_from, t_to, now)

    return MACRO_RE.sub(repl, sql)


def expand(sql, dash, values, t_from, t_to, interval, now):
    sql = interpolate_variables(sql, dash, values, t_from, t_to, interval)
    sql = interpolate_global(sql, t_from, t_to, interval)
    return interpolate_macros(sql, t_from, t_to, now)


# ---- Command line

def main(argv):
    if len(argv) < 3 or argv[1] not in ("list", "sql"):
        fail("usage: list DASHBOARD | sql DASHBOARD (panel ID | var NAME) "
             "--from TIME --to TIME [--var NAME=VALUE]... [--interval DUR]")
    try:
        with open(argv[2], encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (argv[2], e))
    if argv[1] == "list":
        for p, t in panel_queries(dash):
            print("\t".join(str(x) for x in (
                p.get("id"), t.get("refId", ""), t.get("format", ""),
                p.get("type", ""), p.get("title", ""))))
        for v in variables(dash):
            if v.get("type") == "query":
                print("var\t%s" % v["name"])
        return 0
    if len(argv) < 5:
        fail("sql: which panel or variable?")
    kind, key = argv[3], argv[4]
    opts = {"--from": None, "--to": None, "--interval": None}
    values = {}
    rest = argv[5:]
    while rest:
        if len(rest) < 2:
            fail("%s needs a value" % rest[0])
        o, a = rest[0], rest[1]
        rest = rest[2:]
        if o == "--var":
            if "=" not in a:
                fail("--var NAME=VALUE")
            n, v = a.split("=", 1)
            values.setdefault(n, []).append(v)
        elif o in opts:
            opts[o] = a
        else:
            fail("unknown option %s" % o)
    if not opts["--from"] or not opts["--to"]:
        fail("--from and --to are needed")
    t_from, t_to = parse_time(opts["--from"]), parse_time(opts["--to"])
    now = datetime.datetime.now(datetime.timezone.utc)
    interval = None
    if opts["--interval"]:
        interval = parse_interval(opts["--interval"], now)
    if kind == "panel":
        got = [t for p, t in panel_queries(dash) if str(p.get("id")) == key]
        if not got:
            fail("no panel %s" % key)
        sql = got[0]["rawSql"]
    elif kind == "var":
        got = [v for v in variables(dash)
               if v.get("name") == key and v.get("type") == "query"]
        if not got:
            fail("no query variable %s" % key)
        q = got[0].get("query")
        sql = q.get("query") if isinstance(q, dict) else q
    else:
        fail("panel ID or var NAME")
    print(expand(sql, dash, values, t_from, t_to, interval, now))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
