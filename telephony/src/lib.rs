//! Telephony for the ACD (issue 5): SIP signalling that agents' phones and callers reach.
//!
//! - [`sip::message`]: SIP messages parsed from and written to bytes, with size limits.
//! - [`sip::digest`]: digest authentication (MD5, `qop=auth`).
//! - [`sip::registrar`]: agents' phones register; bindings expire.
//! - [`sip::core`]: the endpoint, sans-IO — datagrams and the time in, datagrams out — with
//!   non-INVITE server transactions absorbing retransmissions.
//! - [`transport`]: the thin tokio layer that drives the core over UDP and TCP.
//! - [`accounts`]: agents' SIP passwords, kept in the data directory.
//! - [`acd`]: the queue engine, sans-IO — calls, agents' states, strategies, overflow, wrap-up.
//! - [`ivr`]: IVR flows (TOML) by dialled number and time of day, walked by digits, sans-IO.
//! - [`live`]: one tenant's engine on the wall clock, shared by the SIP task and the HTTP API;
//!   it publishes events and journals each agent's closed state periods.
//! - [`journal`]: closed state periods, synced to disk before a change is acknowledged, until
//!   the binary moves them into the analytics store.
//!
//! So far: registration and OPTIONS over SIP (UDP and TCP), agents' states (API, events, the store) and the
//! queue engine, which calls do not reach yet. Calls (INVITE,
//! dialogs, the B2BUA), RTP, the IVR and call records are the rest of issue 5. Depends on
//! `wfm-model` (the schema's vocabulary) and no stage crate: the binary moves the ACD's records
//! into the analytics store.

pub mod accounts;
pub mod acd;
pub mod ivr;
pub mod journal;
pub mod live;
pub mod sip;
pub mod transport;
