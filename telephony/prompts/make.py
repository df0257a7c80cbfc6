#!/usr/bin/env python3
"""Regenerate the ACD audio prompts in this directory.

Usage:  python3 telephony/prompts/make.py

Output: RIFF/WAVE, format tag 7 (G.711 mu-law), mono, 8000 Hz, 8 bits/sample,
with 'fmt ' (18 bytes, cbSize=0), 'fact' and 'data' chunks.  Every file is
read back and checked after writing.  The spoken queue-announcement fragments
(ANNOUNCE below) are trimmed to ANNOUNCE_PAD of silence at each end so that
they can be played back to back.

Run-time requirements: Python 3.11 standard library, plus the external
commands `espeak-ng` (speech; required for the spoken prompts) and,
optionally, `sox` (high-quality resampling to 8 kHz; a pure-Python
fallback resampler is used when sox is absent).
On Debian/Ubuntu: apt-get install -y espeak-ng sox
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 8000
HERE = os.path.dirname(os.path.abspath(__file__))

VOICE = "en-gb"      # English voice
SPEED = 140          # words per minute (espeak-ng default is 175)
PITCH = 45
WORD_GAP = 1         # extra gap between words, in 10 ms units

SPEECH_PEAK_DBFS = -3.0
MUSIC_PEAK_DBFS = -12.0
TONE_PEAK_DBFS = -9.0

SPOKEN = {
    "main-menu.wav": ("Welcome to the demo contact centre. "
                      "For support, press 1. For billing, press 2.", False),
    "closed.wav": ("We are closed now. "
                   "Please leave a message after the tone.", True),
    "voicemail.wav": ("Please leave a message after the tone.", True),
    "queue.wav": ("All our agents are busy. "
                  "Please hold; your call is important to us.", False),
    "busy.wav": ("Sorry, nobody can take your call now. Goodbye.", False),
    "transfer.wav": ("Please hold while we transfer your call.", False),
}

# Spoken queue announcements: short fragments played back to back, e.g.
#   position.wav number-3.wav in-queue.wav wait.wav number-2.wav minutes.wav
#   position.wav number-1.wav in-queue.wav less-than-a-minute.wav
# so they are trimmed tightly (ANNOUNCE_PAD of silence at each end, no
# trailing silence added) instead of the 80 ms + 100 ms of the prompts above.
ANNOUNCE_PAD = 0.04  # seconds of silence kept before/after the speech

NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve "
                "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                "twenty").split()

ANNOUNCE = {
    "position.wav": "You are number",
    "in-queue.wav": "in the queue.",
    "wait.wav": "Your expected waiting time is about",
    "minute.wav": "minute.",
    "minutes.wav": "minutes.",
    "less-than-a-minute.wav": "Your expected waiting time is less than a minute.",
    "more-than-twenty-minutes.wav": "Your expected waiting time is more than twenty minutes.",
    **{f"number-{i}.wav": w for i, w in enumerate(NUMBER_WORDS, start=1)},
    "more-than-twenty.wav": "more than twenty",
}


# ---------------------------------------------------------------- helpers

def db_to_amp(db: float) -> float:
    return 10.0 ** (db / 20.0)


def silence(seconds: float) -> list[float]:
    return [0.0] * int(round(seconds * RATE))


def tone(freq: float, seconds: float, amp: float, ramp: float = 0.01) -> list[float]:
    """Sine tone with short raised-cosine ramps (no clicks)."""
    n = int(round(seconds * RATE))
    r = max(1, int(round(ramp * RATE)))
    out = []
    for i in range(n):
        g = 1.0
        if i < r:
            g = 0.5 - 0.5 * math.cos(math.pi * i / r)
        elif i >= n - r:
            g = 0.5 - 0.5 * math.cos(math.pi * (n - 1 - i) / r)
        out.append(amp * g * math.sin(2 * math.pi * freq * i / RATE))
    return out


def normalize(samples: list[float], peak_dbfs: float) -> list[float]:
    peak = max((abs(s) for s in samples), default=0.0)
    if peak <= 0:
        return samples
    k = db_to_amp(peak_dbfs) / peak
    return [s * k for s in samples]


def trim(samples: list[float], threshold: float = 0.01, pad: float = 0.08) -> list[float]:
    """Remove leading/trailing near-silence, keeping `pad` seconds."""
    idx = [i for i, s in enumerate(samples) if abs(s) > threshold]
    if not idx:
        return samples
    p = int(pad * RATE)
    out = samples[max(0, idx[0] - p): min(len(samples), idx[-1] + p + 1)]
    f = min(len(out) // 2, int(0.01 * RATE))            # 10 ms fades, no clicks
    for i in range(f):
        g = i / f
        out[i] *= g
        out[-1 - i] *= g
    return out


# ---------------------------------------------------------- mu-law (G.711)

_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def _ulaw_byte(pcm: int) -> int:
    """16-bit linear -> mu-law byte, as in the reference Sun/CCITT g711.c."""
    pcm >>= 2                       # to 14-bit (arithmetic shift)
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 33       # clip, add bias
    for seg, end in enumerate(_SEG_END):
        if pcm <= end:
            return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask
    return 0x7F ^ mask


_ULAW_TABLE = bytes(_ulaw_byte(v - 32768) for v in range(65536))


def to_ulaw(samples: list[float]) -> bytes:
    out = bytearray(len(samples))
    for i, s in enumerate(samples):
        v = int(round(s * 32767.0))
        v = -32768 if v < -32768 else 32767 if v > 32767 else v
        out[i] = _ULAW_TABLE[v + 32768]
    return bytes(out)


def write_ulaw_wav(path: str, samples: list[float]) -> None:
    data = to_ulaw(samples)
    fmt = struct.pack("<HHIIHHH", 7, 1, RATE, RATE, 1, 8, 0)   # cbSize = 0
    fact = struct.pack("<I", len(data))
    body = b"WAVE"
    body += b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"fact" + struct.pack("<I", len(fact)) + fact
    body += b"data" + struct.pack("<I", len(data)) + data
    if len(data) % 2:
        body += b"\x00"                                       # RIFF pad byte
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def check_ulaw_wav(path: str) -> float:
    """Read a written file back; check the format; return its duration (s)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"RIFF" or b[8:12] != b"WAVE" or struct.unpack("<I", b[4:8])[0] != len(b) - 8:
        raise RuntimeError(f"{path}: bad RIFF/WAVE header")
    chunks, pos = {}, 12
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        chunks[cid] = b[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    if pos != len(b) or set(chunks) != {b"fmt ", b"fact", b"data"}:
        raise RuntimeError(f"{path}: unexpected chunk layout")
    tag, ch, rate, brate, align, bits, cb = struct.unpack("<HHIIHHH", chunks[b"fmt "])
    if (tag, ch, rate, brate, align, bits, cb) != (7, 1, RATE, RATE, 1, 8, 0):
        raise RuntimeError(f"{path}: not mu-law/mono/{RATE} Hz/8-bit")
    n = len(chunks[b"data"])
    if n == 0 or struct.unpack("<I", chunks[b"fact"])[0] != n:
        raise RuntimeError(f"{path}: empty data or fact/data length mismatch")
    return n / RATE


# ------------------------------------------------------------- PCM input

def read_pcm16_wav(path: str) -> tuple[list[float], int]:
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise RuntimeError(f"{path}: expected 16-bit PCM")
        ch, rate, n = w.getnchannels(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    vals = struct.unpack(f"<{len(raw) // 2}h", raw)
    if ch > 1:
        vals = [sum(vals[i:i + ch]) / ch for i in range(0, len(vals), ch)]
    return [v / 32768.0 for v in vals], rate


def resample_py(x: list[float], src: int, dst: int) -> list[float]:
    """Fallback: windowed-sinc low-pass + linear-phase resampling."""
    if src == dst:
        return x
    ratio = dst / src
    cutoff = 0.45 * min(1.0, ratio)          # relative to src rate
    half = 16
    out = []
    n_out = int(len(x) * ratio)
    for j in range(n_out):
        t = j / ratio
        c = int(t)
        acc = 0.0
        for k in range(c - half + 1, c + half + 1):
            if 0 <= k < len(x):
                d = t - k
                w = 0.5 + 0.5 * math.cos(math.pi * d / half)
                s = 2 * cutoff * (math.sin(2 * math.pi * cutoff * d) / (2 * math.pi * cutoff * d)
                                  if d else 1.0)
                acc += x[k] * s * w
        out.append(acc)
    return out


def speak(text: str, tmp: str, pad: float = 0.08) -> list[float]:
    raw = os.path.join(tmp, "speech.wav")
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED), "-p", str(PITCH),
                    "-g", str(WORD_GAP), "-w", raw, text], check=True)
    if shutil.which("sox"):
        low = os.path.join(tmp, "speech8k.wav")
        # band-limit to the telephone band and resample to 8 kHz, 16-bit mono
        subprocess.run(["sox", "-D", "-R", raw, "-r", str(RATE), "-c", "1", "-b", "16",
                        "-e", "signed-integer", low, "highpass", "200",
                        "rate", "-v"], check=True)
        samples, rate = read_pcm16_wav(low)
    else:
        samples, rate = read_pcm16_wav(raw)
        samples = resample_py(samples, rate, RATE)
    return trim(samples, pad=pad)


# ----------------------------------------------------------------- music

def hold_music(seconds_per_chord: float = 3.0) -> list[float]:
    """I-vi-IV-V in C, soft pad chords plus a gentle arpeggio; 12 s, loopable.

    Every note starts and ends at zero amplitude, and the progression
    resolves back towards the opening chord, so the file loops cleanly.
    """
    def f(midi: int) -> float:
        return 440.0 * 2 ** ((midi - 69) / 12)

    chords = [
        [48, 55, 60, 64],   # C   (C3 G3 C4 E4)
        [45, 52, 57, 60],   # Am  (A2 E3 A3 C4)
        [41, 53, 57, 60],   # F   (F2 F3 A3 C4)
        [43, 50, 55, 59],   # G   (G2 D3 G3 B3)
    ]
    arps = [
        [72, 76, 79, 76, 72, 67],   # C  E  G  E  C  G
        [69, 72, 76, 72, 69, 64],
        [65, 69, 72, 69, 65, 60],
        [67, 71, 74, 71, 67, 62],
    ]
    n_chord = int(seconds_per_chord * RATE)
    total = n_chord * len(chords)
    buf = [0.0] * total

    for ci, chord in enumerate(chords):
        start = ci * n_chord
        # pad: slow attack, slow release, slight overlap into next chord
        pad_len = n_chord
        att, rel = int(0.35 * RATE), int(0.6 * RATE)
        for note in chord:
            fr = f(note)
            for i in range(pad_len):
                if i < att:
                    g = 0.5 - 0.5 * math.cos(math.pi * i / att)
                elif i >= pad_len - rel:
                    g = 0.5 - 0.5 * math.cos(math.pi * (pad_len - 1 - i) / rel)
                else:
                    g = 1.0
                ph = 2 * math.pi * fr * i / RATE
                # sine + a touch of 2nd harmonic for warmth
                buf[start + i] += 0.18 * g * (math.sin(ph) + 0.15 * math.sin(2 * ph))
        # arpeggio: plucked notes with exponential decay
        step = n_chord // len(arps[ci])
        for k, note in enumerate(arps[ci]):
            fr = f(note)
            n0 = start + k * step
            dur = min(int(0.9 * RATE), total - n0)
            for i in range(dur):
                a = min(1.0, i / (0.008 * RATE))
                env = a * math.exp(-i / (0.25 * RATE))
                if i > dur - 80:                       # tail to zero
                    env *= (dur - i) / 80
                buf[n0 + i] += 0.22 * env * math.sin(2 * math.pi * fr * i / RATE)
    return normalize(buf, MUSIC_PEAK_DBFS)


def beep() -> list[float]:
    return tone(1000.0, 0.4, db_to_amp(TONE_PEAK_DBFS))


def done_tones() -> list[float]:
    a = db_to_amp(TONE_PEAK_DBFS)
    return tone(880.0, 0.15, a) + tone(1320.0, 0.15, a)


# ------------------------------------------------------------------ main

def main() -> int:
    if not shutil.which("espeak-ng"):
        print("error: espeak-ng not found (apt-get install -y espeak-ng sox)",
              file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for name, (text, with_beep) in SPOKEN.items():
            s = normalize(speak(text, tmp), SPEECH_PEAK_DBFS)
            if with_beep:
                s = s + silence(0.35) + beep()
            write_ulaw_wav(os.path.join(HERE, name), s + silence(0.1))
            print(f"wrote {name}")
        for name, text in ANNOUNCE.items():
            s = normalize(speak(text, tmp, pad=ANNOUNCE_PAD), SPEECH_PEAK_DBFS)
            write_ulaw_wav(os.path.join(HERE, name), s)
            print(f"wrote {name}")
    write_ulaw_wav(os.path.join(HERE, "hold-music.wav"), hold_music())
    print("wrote hold-music.wav")
    write_ulaw_wav(os.path.join(HERE, "done.wav"), done_tones())
    print("wrote done.wav")
    for name in [*SPOKEN, *ANNOUNCE, "hold-music.wav", "done.wav"]:
        check_ulaw_wav(os.path.join(HERE, name))
    print(f"checked {len(SPOKEN) + len(ANNOUNCE) + 2} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
