"""Time to first contentful paint of pages in headless Chromium, through chromedriver.

    python3 benches/web/first_render.py BASE_URL SESSION_COOKIE PATH...

Prints, per page, the median over five loads (after one warm-up) of the navigation's
responseEnd, domContentLoaded and first-contentful-paint, in milliseconds from the start of
the navigation. Standard library only.
"""
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    base, cookie, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    port = free_port()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/status")
                break
            except OSError:
                time.sleep(0.1)

        def call(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))["value"]

        args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--window-size=1280,900"]
        session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})["sessionId"]
        s = f"/session/{session}"
        call("POST", s + "/url", {"url": base + "/signin"})
        name, value = cookie.split("=", 1)
        call("POST", s + "/cookie", {"cookie": {"name": name, "value": value, "path": "/"}})
        script = """
            const nav = performance.getEntriesByType('navigation')[0];
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return [nav.responseEnd, nav.domContentLoadedEventEnd, paint ? paint.startTime : null, nav.transferSize];
        """
        for path in paths:
            samples = []
            for attempt in range(6):
                call("POST", s + "/url", {"url": base + path})
                time.sleep(0.3)
                sample = call("POST", s + "/execute/sync", {"script": script, "args": []})
                if attempt > 0:
                    samples.append(sample)
            median = lambda i: statistics.median(x[i] for x in samples if x[i] is not None)
            print(f"{path}: response end {median(0):.1f} ms, DOM loaded {median(1):.1f} ms, first contentful paint {median(2):.1f} ms, transferred {samples[-1][3]} bytes")
        call("DELETE", s)
    finally:
        driver.kill()


if __name__ == "__main__":
    main()
