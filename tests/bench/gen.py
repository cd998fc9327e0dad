#!/usr/bin/env python3
"""gen.py - synthetic but realistic TLS-RPT report messages for benchmarks.

    gen.py N DIR [SEED]

Writes N messages into the Maildir DIR (DIR/new, DIR/cur, DIR/tmp):
multipart/report with a text part and a base64 gzip'd JSON report, as
Google and Microsoft send them; 1-2 policies, 0-4 failure details each,
several reporters, distinct report-ids.  Deterministic for a given SEED.
"""
import base64
import gzip
import json
import os
import random
import sys

REPORTERS = [
    ("Google Inc.", "google.com", "smtp-tls-reporting@google.com",
     "noreply-smtp-tls-reporting@google.com"),
    ("Microsoft Corporation", "microsoft.com", "tlsrpt-noreply@microsoft.com",
     "tlsrpt-noreply@microsoft.com"),
    ("Yahoo Inc.", "yahoo.com", "tlsrpt@yahooinc.com", "noreply@yahoo.com"),
    ("Mail.ru", "mail.ru", "tls_support@corp.mail.ru", "noreply@mail.ru"),
    ("Mimecast", "mimecast.org", "noreply@mimecast.org",
     "tlsrpt@mimecast.org"),
    ("Example MTA", "mta.example.net", "postmaster@mta.example.net",
     "tlsrpt@mta.example.net"),
]
RESULTS = ["certificate-expired", "starttls-not-supported",
           "certificate-host-mismatch", "validation-failure",
           "sts-policy-fetch-error", "certificate-not-trusted",
           "tlsa-invalid", "dnssec-invalid"]


def report(rng, i, org, sub, contact):
    day = 1700000000 // 86400 + (i % 900)
    start = day * 86400
    domains = ["example.com", "example.org", "example.net", "mail.test",
               "corp.example", "shop.example"]
    policies = []
    for p in range(rng.randint(1, 2)):
        dom = domains[(i + p) % len(domains)]
        ptype = rng.choice(["sts", "sts", "tlsa", "no-policy-found"])
        pol = {"policy-type": ptype, "policy-domain": dom}
        if ptype == "sts":
            pol["policy-string"] = ["version: STSv1", "mode: enforce",
                                    "mx: mx1." + dom, "mx: mx2." + dom,
                                    "max_age: 604800"]
            pol["mx-host"] = ["mx1." + dom, "mx2." + dom]
        elif ptype == "tlsa":
            pol["policy-string"] = ["3 1 1 " + "%064x" % rng.getrandbits(256)]
            pol["mx-host"] = "mx1." + dom
        details = []
        for d in range(rng.randint(0, 4)):
            details.append({
                "result-type": rng.choice(RESULTS),
                "sending-mta-ip": "192.0.2.%d" % rng.randint(1, 254),
                "receiving-mx-hostname": "mx%d.%s" % (d + 1, dom),
                "receiving-ip": "198.51.100.%d" % rng.randint(1, 254),
                "failed-session-count": rng.randint(1, 50),
            })
        entry = {"policy": pol, "summary": {
            "total-successful-session-count": rng.randint(0, 100000),
            "total-failure-session-count":
                sum(d["failed-session-count"] for d in details)}}
        if details or rng.random() < 0.5:
            entry["failure-details"] = details
        policies.append(entry)
    return {
        "organization-name": org,
        "date-range": {
            "start-datetime": "%sT00:00:00Z" % day_str(start),
            "end-datetime": "%sT23:59:59Z" % day_str(start)},
        "contact-info": contact,
        "report-id": "%s-%08d-%s" % (day_str(start), i, sub),
        "policies": policies,
    }, start


def day_str(t):
    import time
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def message(rng, i):
    org, sub, contact, sender = REPORTERS[i % len(REPORTERS)]
    rep, start = report(rng, i, org, sub, contact)
    dom = rep["policies"][0]["policy"]["policy-domain"]
    body = json.dumps(rep, separators=(",", ":")).encode()
    gz = gzip.compress(body, mtime=0)
    b64 = base64.encodebytes(gz).decode()
    name = "%s!%s!%d!%d!%d.json.gz" % (sub, dom, start, start + 86399, i)
    boundary = "=_%016x" % rng.getrandbits(64)
    return (
        "Return-Path: <%s>\n"
        "Authentication-Results: mx.receiver.example; dkim=pass header.d=%s "
        "header.s=s1 header.b=abcdefgh; spf=pass smtp.mailfrom=%s\n"
        "From: %s\n"
        "To: tlsrpt@receiver.example\n"
        "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
        "Date: Mon, 20 Nov 2023 01:02:03 +0000\n"
        "Message-ID: <%d.%x@%s>\n"
        "TLS-Report-Domain: %s\n"
        "TLS-Report-Submitter: %s\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; boundary=\"%s\"; report-type=tlsrpt\n"
        "\n"
        "--%s\n"
        "Content-Type: text/plain; charset=\"UTF-8\"\n"
        "Content-Transfer-Encoding: 7bit\n"
        "\n"
        "This is an aggregate TLS report from %s\n"
        "\n"
        "--%s\n"
        "Content-Type: application/tlsrpt+gzip; name=\"%s\"\n"
        "Content-Disposition: attachment; filename=\"%s\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "%s"
        "--%s--\n" % (sender, sub, sub, sender, dom, sub, rep["report-id"],
                      i, rng.getrandbits(32), sub, dom, sub, boundary,
                      boundary, sub, boundary, name, name, b64, boundary))


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 8460)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for i in range(n):
        with open(os.path.join(out, "new", "%09d.bench" % i), "w") as f:
            f.write(message(rng, i))


if __name__ == "__main__":
    main()
