//! Telephony for the ACD (issue 5): the SIP service that agents' phones and callers reach.
//!
//! - [`sip::message`]: SIP messages parsed from and written to bytes, with size limits.
//! - [`sip::digest`]: digest authentication (MD5, `qop=auth`).
//! - [`sip::registrar`]: agents' phones register; bindings expire.
//! - [`sip::sdp`]: SDP offer/answer for one G.711 audio stream with telephone-events.
//! - [`sip::core`]: the endpoint, sans-IO — messages and the time in, messages out — with
//!   server transactions absorbing retransmissions; calls go on to [`calls`].
//! - [`calls`]: the call controller, sans-IO: a B2BUA between callers and agents' phones that
//!   walks callers through the IVR into queues, rings agents as the engine decides, bridges,
//!   holds, transfers, and writes a record per call.
//! - [`acd`]: the queue engine, sans-IO — calls, agents' states, strategies, overflow, wrap-up.
//! - [`ivr`]: IVR flows (TOML) by dialled number and time of day, walked by digits, sans-IO.
//! - [`media`]: RTP anchored here: prompts, hold music, digits, the relay between legs with
//!   rewriting, recordings ([`media::stream`] is its sans-IO part).
//! - [`switchboard`]: which tenant's ACD a message is for (one endpoint serves every tenant).
//! - [`transport`]: the thin tokio layer that drives the core over UDP and TCP and carries out
//!   its effects.
//! - [`accounts`]: agents' SIP passwords, kept in the data directory.
//! - [`live`]: one tenant's engine on the wall clock, shared by the SIP side and the HTTP API;
//!   it publishes events and journals state periods and finished calls.
//! - [`journal`]: those records, synced to disk before they are acknowledged, until the binary
//!   moves them into the analytics store.
//!
//! Depends on `wfm-model` (the schema's vocabulary) and no stage crate: the binary moves the
//! ACD's records into the analytics store.

pub mod accounts;
pub mod acd;
pub mod calls;
pub mod ivr;
pub mod journal;
pub mod live;
pub mod media;
pub mod sip;
pub mod switchboard;
pub mod transport;

/// Locks `m` even if a thread panicked holding it: every lock here guards state changed one
/// whole input (a message, an action, a call's entry) at a time, so what a panic left is still
/// a state between two inputs, and refusing all later work would be worse.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
