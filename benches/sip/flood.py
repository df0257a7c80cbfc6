#!/usr/bin/env python3
"""An INVITE flood from one address (benches/sip/calls.sh with FLOOD=RATE): INVITEs without SDP
to a number, each with its own Call-ID, sent at RATE a second for SECONDS and never acknowledged;
prints how many were sent and how many wfm answered, by status."""
import argparse, collections, socket, time

p = argparse.ArgumentParser()
p.add_argument("--to", required=True, help="wfm's SIP address, host:port")
p.add_argument("--source", default="127.0.0.2")
p.add_argument("--rate", type=int, required=True)
p.add_argument("--seconds", type=int, required=True)
p.add_argument("--number", default="999")
a = p.parse_args()
host, port = a.to.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a.source, 0))
s.setblocking(False)
local = "%s:%d" % s.getsockname()
answers = collections.Counter()

def drain():
    while True:
        try:
            data = s.recv(65535)
        except BlockingIOError:
            return
        answers[data.split(b" ", 2)[1].decode()] += 1

sent, start = 0, time.monotonic()
while sent < a.rate * a.seconds:
    due = int((time.monotonic() - start) * a.rate)
    while sent < min(due, a.rate * a.seconds):
        msg = (f"INVITE sip:{a.number}@{a.to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-f{sent}\r\n"
               f"From: <sip:flood@{local}>;tag=f{sent}\r\nTo: <sip:{a.number}@{a.to}>\r\nCall-ID: flood-{sent}@{local}\r\n"
               f"CSeq: 1 INVITE\r\nContact: <sip:flood@{local}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        try:
            s.sendto(msg.encode(), (host, int(port)))
        except BlockingIOError:
            pass
        sent += 1
    drain()
    time.sleep(0.001)
end = time.monotonic() + 2
while time.monotonic() < end:
    drain()
    time.sleep(0.01)
print(f"flood: {sent} INVITEs in {a.seconds} s from {a.source}; answered: {dict(answers) or 'none'}")
