//! Audio as the ACD handles it: G.711 (μ-law and A-law, ITU-T G.711) to and from 16-bit linear,
//! WAV files read (G.711 prompts) and written (16-bit recordings), and the prompt set.

use crate::sip::sdp::Codec;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0f) as i16;
    let magnitude = ((mantissa << 3) + 0x84) << exponent;
    let value = magnitude - 0x84;
    if u & 0x80 != 0 { -value } else { value }
}

/// The segment (0–7) whose end is the first at or above `value`, or 8 when above them all.
fn segment(value: i32, ends: &[i32; 8]) -> usize {
    ends.iter().position(|&end| value <= end).unwrap_or(8)
}

pub fn linear_to_ulaw(sample: i16) -> u8 {
    // After Sun's public-domain g711.c: 14-bit magnitude, bias 33, eight segments.
    let mut value = sample as i32 >> 2;
    let mask = if value < 0 {
        value = -value;
        0x7f
    } else {
        0xff
    };
    value = value.min(8159) + 0x21;
    let seg = segment(value, &[0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff]);
    if seg >= 8 {
        return 0x7f ^ mask;
    }
    (((seg as i32) << 4) | ((value >> (seg + 1)) & 0x0f)) as u8 ^ mask
}

pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = (a & 0x0f) as i16;
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    if a & 0x80 != 0 { magnitude } else { -magnitude }
}

pub fn linear_to_alaw(sample: i16) -> u8 {
    // After Sun's public-domain g711.c: 13-bit magnitude, eight segments.
    let mut value = sample as i32 >> 3;
    let mask = if value >= 0 {
        0xd5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &[0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff]);
    if seg >= 8 {
        return 0x7f ^ mask;
    }
    let mantissa = if seg < 2 { (value >> 1) & 0x0f } else { (value >> seg) & 0x0f };
    (((seg as i32) << 4) | mantissa) as u8 ^ mask
}

pub fn decode(codec: Codec, byte: u8) -> i16 {
    match codec {
        Codec::Pcmu => ulaw_to_linear(byte),
        Codec::Pcma => alaw_to_linear(byte),
    }
}

pub fn encode(codec: Codec, sample: i16) -> u8 {
    match codec {
        Codec::Pcmu => linear_to_ulaw(sample),
        Codec::Pcma => linear_to_alaw(sample),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
}

/// Reads a G.711 WAV file (format 7, μ-law, or 6, A-law; 8 kHz mono) into linear samples.
pub fn read_g711_wav(file: &str, bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let bad = |message: &str| WavError::Format { file: file.to_owned(), message: message.to_owned() };
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF WAVE file"));
    }
    let mut at = 12;
    let mut law: Option<Codec> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let body = bytes.get(at + 8..at + 8 + len).ok_or_else(|| bad("a chunk runs past the end of the file"))?;
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(bad("fmt chunk too short"));
                }
                let format = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let rate = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
                law = Some(match format {
                    7 => Codec::Pcmu,
                    6 => Codec::Pcma,
                    other => return Err(bad(&format!("format {other}: prompts must be G.711 (6 A-law or 7 μ-law)"))),
                });
                if channels != 1 || rate != 8000 {
                    return Err(bad(&format!("{channels} channels at {rate} Hz: prompts must be mono at 8000 Hz")));
                }
            }
            b"data" => {
                let law = law.ok_or_else(|| bad("data before the fmt chunk"))?;
                return Ok(body.iter().map(|&b| decode(law, b)).collect());
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    Err(bad("no data chunk"))
}

/// The prompts a flow may name, by file name: the set shipped in `telephony/prompts/`, and any
/// `.wav` in the data directory's `prompts/` folder (which replaces a shipped one of that name).
#[derive(Clone, Default)]
pub struct Prompts(HashMap<String, Arc<[i16]>>);

macro_rules! shipped {
    ($($name:literal),*) => { [$(($name, &include_bytes!(concat!("../../prompts/", $name))[..])),*] };
}

impl Prompts {
    pub fn shipped() -> Self {
        let files = shipped!(
            "main-menu.wav",
            "closed.wav",
            "voicemail.wav",
            "queue.wav",
            "hold-music.wav",
            "done.wav",
            "busy.wav",
            "transfer.wav",
            "position.wav",
            "in-queue.wav",
            "wait.wav",
            "minute.wav",
            "minutes.wav",
            "less-than-a-minute.wav",
            "more-than-twenty-minutes.wav",
            "more-than-twenty.wav",
            "number-1.wav",
            "number-2.wav",
            "number-3.wav",
            "number-4.wav",
            "number-5.wav",
            "number-6.wav",
            "number-7.wav",
            "number-8.wav",
            "number-9.wav",
            "number-10.wav",
            "number-11.wav",
            "number-12.wav",
            "number-13.wav",
            "number-14.wav",
            "number-15.wav",
            "number-16.wav",
            "number-17.wav",
            "number-18.wav",
            "number-19.wav",
            "number-20.wav"
        );
        Self(files.into_iter().map(|(name, bytes)| (name.to_owned(), read_g711_wav(name, bytes).expect("shipped prompts are G.711 WAV").into())).collect())
    }

    /// The shipped set with `dir`'s WAV files over it; a file that is not G.711 is an error.
    pub fn with_folder(dir: &Path) -> Result<Self, WavError> {
        let mut prompts = Self::shipped();
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(prompts) };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "wav") {
                let file = path.display().to_string();
                let bytes = std::fs::read(&path).map_err(|source| WavError::Io { file: file.clone(), source })?;
                let samples = read_g711_wav(&file, &bytes)?;
                prompts.0.insert(entry.file_name().to_string_lossy().into_owned(), samples.into());
            }
        }
        Ok(prompts)
    }

    pub fn get(&self, name: &str) -> Option<Arc<[i16]>> {
        self.0.get(name).cloned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// A 16-bit PCM WAV being written: samples appended, lengths filled in on `finish`.
pub struct WavWriter {
    file: std::io::BufWriter<std::fs::File>,
    channels: u16,
    samples: u32,
}

impl WavWriter {
    pub fn create(path: &Path, channels: u16) -> std::io::Result<Self> {
        // Never over another recording (a Call-ID used twice): that one stays whole.
        let mut file = std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).create_new(true).open(path)?);
        let rate = 8000u32;
        let block = 2 * channels;
        let mut header = Vec::with_capacity(44);
        header.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        header.extend_from_slice(&16u32.to_le_bytes());
        header.extend_from_slice(&1u16.to_le_bytes());
        header.extend_from_slice(&channels.to_le_bytes());
        header.extend_from_slice(&rate.to_le_bytes());
        header.extend_from_slice(&(rate * block as u32).to_le_bytes());
        header.extend_from_slice(&block.to_le_bytes());
        header.extend_from_slice(&16u16.to_le_bytes());
        header.extend_from_slice(b"data\0\0\0\0");
        file.write_all(&header)?;
        Ok(Self { file, channels, samples: 0 })
    }

    /// Appends interleaved frames (one sample per channel each).
    pub fn write(&mut self, interleaved: &[i16]) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(interleaved.len() * 2);
        for s in interleaved {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        self.samples += interleaved.len() as u32;
        self.file.write_all(&bytes)
    }

    /// Fills in the lengths and syncs the file.
    pub fn finish(mut self) -> std::io::Result<()> {
        let data = self.samples * 2;
        self.file.seek(SeekFrom::Start(4))?;
        self.file.write_all(&(36 + data).to_le_bytes())?;
        self.file.seek(SeekFrom::Start(40))?;
        self.file.write_all(&data.to_le_bytes())?;
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        let _ = self.channels;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_round_trips_within_its_step() {
        for byte in 0..=255u8 {
            // μ-law has two zeros (0x7f, 0xff); zero encodes as 0xff.
            if byte != 0x7f {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(byte)), byte, "μ-law {byte:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(byte)), byte, "A-law {byte:#x}");
        }
        for sample in [-32768i16, -1000, -1, 0, 1, 1000, 32767] {
            let u = ulaw_to_linear(linear_to_ulaw(sample)) as i32;
            let a = alaw_to_linear(linear_to_alaw(sample)) as i32;
            let step = (sample as i32).abs() / 16 + 16;
            assert!((u - sample as i32).abs() <= step && (a - sample as i32).abs() <= step, "{sample}: {u} {a}");
        }
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_alaw(0), 0xd5);
    }

    #[test]
    fn shipped_prompts_load_and_bad_files_are_named() {
        let prompts = Prompts::shipped();
        assert!(prompts.get("main-menu.wav").is_some_and(|s| s.len() > 8000));
        let error = read_g711_wav("x.wav", b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0").unwrap_err();
        assert!(error.to_string().starts_with("x.wav: format 1"), "{error}");
        assert!(read_g711_wav("y.wav", b"garbage").unwrap_err().to_string().contains("y.wav"));
    }
}
