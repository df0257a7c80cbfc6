#![no_main]
//! Any bytes as a queue_log: no panic, and every record it yields passes the schema checks.

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use wfm_analytics::import::queue_log::{parse, Source};
use wfm_analytics::import::{BadLines, MemberMap};
use wfm_model::TenantZone;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let zone = TenantZone::parse("Europe/Warsaw").unwrap();
    if let Ok(batch) = parse(&[Source { path: Path::new("fuzz"), text: &text }], zone, &MemberMap::default(), BadLines::Skip) {
        for call in &batch.calls {
            call.validate().expect("importer emits valid calls");
        }
        for state in &batch.states {
            state.validate().expect("importer emits valid states");
        }
    }
});
