//! Telephony for the ACD (issue 5): SIP signalling that agents' phones and callers reach.
//!
//! - [`sip::message`]: SIP messages parsed from and written to bytes, with size limits.
//! - [`sip::digest`]: digest authentication (MD5, `qop=auth`).
//! - [`sip::registrar`]: agents' phones register; bindings expire.
//! - [`sip::core`]: the endpoint, sans-IO — datagrams and the time in, datagrams out — with
//!   non-INVITE server transactions absorbing retransmissions.
//! - [`udp`]: the thin tokio layer that drives the core from a UDP socket.
//! - [`accounts`]: agents' SIP passwords, kept in the data directory.
//!
//! So far: registration and OPTIONS. Calls (INVITE, dialogs, the B2BUA), RTP, IVR, queues and
//! agent states are the rest of issue 5. Depends on no other stage crate: the ACD will hand its
//! events to the analytics store through the binary.

pub mod accounts;
pub mod sip;
pub mod udp;
