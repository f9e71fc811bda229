"""A real SMTP server for paperboy's tests (aiosmtpd on 127.0.0.1).

Each accepted message is written to MAILDIR/<n>.eml atomically. Recipients whose address
contains a --reject pattern get `550 5.1.1` at RCPT. Prints "listening PORT" once ready.
Usage: smtp_sink.py --port P --maildir DIR [--reject PATTERN]... [--discard]
"""
import argparse
import asyncio
import itertools
import os
import signal

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir, reject, discard):
        self.maildir = maildir
        self.reject = reject
        self.discard = discard
        self.counter = itertools.count()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if any(p in address for p in self.reject):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        if self.discard:
            return "250 Message accepted for delivery"
        tmp = os.path.join(self.maildir, ".%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(b"X-Sink-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.maildir, "%06d.eml" % n))
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--discard", action="store_true", help="accept and drop (for benchmarks)")
    args = ap.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    controller = Controller(Sink(args.maildir, args.reject, args.discard), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("listening %d" % args.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
