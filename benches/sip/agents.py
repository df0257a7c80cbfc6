#!/usr/bin/env python3
"""Registers agents' phones with a running `wfm serve` over UDP (digest, as a phone does) and
sets them ready through the HTTP API, for the call-load benchmark: every agent's Contact is one
sipp UAS that answers for all of them.

    agents.py --sip 127.0.0.1:5060 --http 127.0.0.1:8080 --token T --password PW \
              --first 2001 --count 1000 --contact 127.0.0.1:7000
"""
import argparse
import hashlib
import json
import socket
import urllib.request


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def register(sock, server, user, password, contact, n):
    def request(cseq, authorization=""):
        return (
            f"REGISTER sip:{server} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sock.getsockname()[0]}:{sock.getsockname()[1]};branch=z9hG4bK-reg{n}-{cseq}\r\n"
            f"From: <sip:{user}@{server}>;tag=r{n}\r\nTo: <sip:{user}@{server}>\r\nCall-ID: reg-{n}@bench\r\n"
            f"CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{contact}>\r\n{authorization}Expires: 3600\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    host, port = server.split(":")
    sock.sendto(request(1), (host, int(port)))
    challenge = sock.recv(65535).decode()
    assert challenge.startswith("SIP/2.0 401"), challenge
    header = next(l for l in challenge.split("\r\n") if l.lower().startswith("www-authenticate:"))
    fields = dict(
        part.strip().split("=", 1) for part in header.split(" ", 2)[2].split(",")
    )
    realm, nonce = fields["realm"].strip('"'), fields["nonce"].strip('"')
    uri, cnonce, nc = f"sip:{server}", "bench", "00000001"
    ha1, ha2 = md5(f"{user}:{realm}:{password}"), md5(f"REGISTER:{uri}")
    response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    authorization = (
        f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc={nc}, cnonce="{cnonce}", algorithm=MD5\r\n'
    )
    sock.sendto(request(2, authorization), (host, int(port)))
    ok = sock.recv(65535).decode()
    assert ok.startswith("SIP/2.0 200"), ok


def main():
    parser = argparse.ArgumentParser()
    for name in ["sip", "http", "token", "password", "contact"]:
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--first", type=int, default=2001)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    for n in range(args.count):
        user = str(args.first + n)
        register(sock, args.sip, user, args.password, args.contact, n)
        body = json.dumps({"state": "ready"}).encode()
        request = urllib.request.Request(
            f"http://{args.http}/api/v1/tenants/demo/agents/{user}/state",
            data=body,
            headers={"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).read()
    print(f"{args.count} agents registered and ready")


if __name__ == "__main__":
    main()
