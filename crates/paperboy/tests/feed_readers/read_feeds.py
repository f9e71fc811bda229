"""Reads paperboy's feeds with feedparser, as a feed reader would, and prints what it saw.

Usage: python read_feeds.py BASE_URL PATH...

For each path the output (one JSON object on stdout, keyed by path) holds feedparser's verdict
(`bozo`), the feed and entry fields the Rust test asserts on, and the HTTP status of two
conditional re-fetches: one with the ETag, one with Last-Modified only.
"""

import json
import sys

import feedparser


def detail(d):
    return {"type": d.get("type"), "value": d.get("value")} if d else None


def entry(e):
    return {
        "id": e.get("id"),
        "title": e.get("title"),
        "title_detail": detail(e.get("title_detail")),
        "link": e.get("link"),
        "authors": [a.get("name") for a in e.get("authors", [])],
        "tags": [t.get("term") for t in e.get("tags", [])],
        "published": e.get("published"),
        "updated": e.get("updated"),
        "summary_detail": detail(e.get("summary_detail")),
        "content": [detail(c) for c in e.get("content", [])],
        "upvotes": e.get("paperboy_upvotes"),
    }


def read(url):
    d = feedparser.parse(url)
    out = {
        "status": d.get("status"),
        "bozo": d.bozo,
        "bozo_exception": repr(d.get("bozo_exception")) if d.bozo else None,
        "version": d.get("version"),
        "content_type": d.get("headers", {}).get("content-type"),
        "etag": d.get("etag"),
        "modified": d.get("modified"),
        "title": d.feed.get("title"),
        "link": d.feed.get("link"),
        "entries": [entry(e) for e in d.entries],
    }
    if d.get("etag"):
        out["status_with_etag"] = feedparser.parse(url, etag=d.etag).get("status")
    if d.get("modified"):
        out["status_with_modified"] = feedparser.parse(url, modified=d.modified).get("status")
    return out


def main():
    base, paths = sys.argv[1], sys.argv[2:]
    json.dump({path: read(base + path) for path in paths}, sys.stdout)


if __name__ == "__main__":
    main()
