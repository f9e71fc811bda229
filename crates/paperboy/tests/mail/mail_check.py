"""Parses captured mails strictly and reports what tests assert on, as JSON on stdout.

Usage: mail_check.py MAILDIR [--dkim-public-key PEM --dkim-selector S --dkim-domain D]
For each .eml: recipient, subject, Message-ID, Date, list headers, MIME structure and defects,
the http(s) links of each part, and (with a key) whether the DKIM signature verifies, and
whether it still verifies once List-Unsubscribe-Post is altered (it must not).
"""
import argparse
import base64
import email
import email.policy
import json
import os
import re
import subprocess
import sys

LINK = re.compile(r"https?://[^\s\"'<>()]+")


def links(text):
    return [l.rstrip(".,;:") for l in LINK.findall(text)]


def dkim_record(pem_path):
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", pem_path, "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def check(path, dkim_args):
    raw = open(path, "rb").read()
    # The sink's own trace header is not part of the sent message.
    if raw.startswith(b"X-Sink-Rcpt:"):
        raw = raw.split(b"\r\n", 1)[1]
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    parts = {}
    for part in msg.walk():
        if not part.is_multipart():
            parts[part.get_content_type()] = part.get_content()
    out = {
        "file": os.path.basename(path),
        "to": str(msg["To"]),
        "from": str(msg["From"]),
        "subject": str(msg["Subject"]),
        "message_id": msg["Message-ID"],
        "date": msg["Date"],
        "content_type": msg.get_content_type(),
        "list_id": msg["List-Id"],
        "list_unsubscribe": msg["List-Unsubscribe"],
        "list_unsubscribe_post": msg["List-Unsubscribe-Post"],
        "defects": [str(d) for d in msg.defects] + [str(d) for p in msg.walk() for d in p.defects],
        "part_types": sorted(parts),
        "text_links": links(parts.get("text/plain", "")),
        "html_links": links(parts.get("text/html", "")),
        "html_has_img": "<img" in parts.get("text/html", "").lower(),
        "dkim": None,
        "dkim_after_tamper": None,
    }
    if dkim_args.dkim_public_key:
        import dkim

        record = dkim_record(dkim_args.dkim_public_key)
        name = ("%s._domainkey.%s." % (dkim_args.dkim_selector, dkim_args.dkim_domain)).encode()

        def dnsfunc(qname, timeout=5):
            return record if qname.rstrip(b".") == name.rstrip(b".") else b""

        out["dkim"] = bool(dkim.verify(raw, dnsfunc=dnsfunc))
        tampered = raw.replace(b"List-Unsubscribe=One-Click", b"List-Unsubscribe=One-Clack", 1)
        out["dkim_after_tamper"] = bool(dkim.verify(tampered, dnsfunc=dnsfunc))
        sig = msg["DKIM-Signature"] or ""
        h = re.search(r"h=([^;]+)", sig.replace("\r\n", "").replace(" ", ""))
        out["dkim_signed_headers"] = [x.lower() for x in h.group(1).split(":")] if h else []
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("--dkim-public-key")
    ap.add_argument("--dkim-selector")
    ap.add_argument("--dkim-domain")
    args = ap.parse_args()
    files = sorted(f for f in os.listdir(args.maildir) if f.endswith(".eml"))
    json.dump([check(os.path.join(args.maildir, f), args) for f in files], sys.stdout)


if __name__ == "__main__":
    main()
