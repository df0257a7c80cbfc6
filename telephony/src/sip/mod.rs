//! SIP (RFC 3261), sans-IO.

pub mod core;
pub mod digest;
pub mod guard;
pub mod message;
pub mod pike;
pub mod registrar;
pub mod sdp;
