//! Random secrets (session ids, tokens, passwords) and how they are stored: a session id or an
//! API token has 256 bits of entropy, so its SHA-256 is as good as a slow hash and lets a
//! request be authenticated with one indexed lookup; passwords are people's, hence argon2.

use crate::OpsError;
use sha2::{Digest, Sha256};

/// `N` random bytes from the operating system, in lowercase hexadecimal.
pub fn random_hex<const N: usize>() -> Result<String, OpsError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| OpsError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

/// A password people can type: 16 characters from an alphabet without look-alikes (≈ 90 bits).
pub fn random_password() -> Result<String, OpsError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| OpsError::Random(e.to_string()))?;
    // 256 is not a multiple of the alphabet's length; the bias (< 1 %) costs under a bit.
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

pub fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_hex::<32>().unwrap(), random_hex::<32>().unwrap());
        assert!(a.len() == 64 && a != b);
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(random_password().unwrap().len(), 16);
        assert!(constant_time_eq("x1", "x1") && !constant_time_eq("x1", "x2") && !constant_time_eq("x", "xx"));
    }
}
