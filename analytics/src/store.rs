//! The append-only Parquet store (layout in `docs/events.md`).

use crate::frames::{
    call_columns, calls_from_frame, calls_to_frame, state_columns, states_from_frame, states_to_frame, ColumnReader,
};
use crate::txn::{self, Txn};
use crate::StoreError;
use chrono::{Duration, NaiveDate};
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use wfm_model::{AgentStateEvent, CallRecord, LocalDateRange, TenantId, TenantZone, OLDEST_READABLE_SCHEMA_VERSION, SCHEMA_VERSION};

const MARKER: &str = "wfm-store.toml";
const LOCK: &str = ".lock";
const TENANTS: &str = "tenants";
/// A partition with more part files than this is compacted after an append.
pub const COMPACT_AFTER_PARTS: usize = 8;

/// The two record streams, each a hive-partitioned dataset of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Calls,
    AgentStates,
}

impl Dataset {
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Calls => "calls",
            Self::AgentStates => "agent_states",
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoreMarker {
    schema_version: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantFile {
    time_zone: String,
}

/// What an append did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppendReport {
    pub calls_written: usize,
    /// Calls whose `call_id` the store (or the same batch) already had.
    pub calls_duplicate: usize,
    pub states_written: usize,
    pub states_duplicate: usize,
    pub files_written: usize,
    pub partitions_compacted: usize,
}

/// One day of one tenant in one dataset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Partition {
    dataset_dir: &'static str,
    tenant: String,
    date: NaiveDate,
}

impl Partition {
    fn rel_dir(&self) -> PathBuf {
        PathBuf::from(self.dataset_dir)
            .join(format!("tenant={}", self.tenant))
            .join(format!("date={}", self.date))
    }
}

/// See [`Store::version_of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreVersion(u64);

/// A handle on a store directory. Cheap to clone; holds no open files.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Held while a writer changes the store; released on drop.
struct WriterLock(#[allow(dead_code)] File);

impl Store {
    /// Opens the store at `root`, creating an empty one if the directory holds none.
    pub fn create_or_open(root: &Path) -> Result<Self, StoreError> {
        let marker = root.join(MARKER);
        if !marker.exists() {
            fs::create_dir_all(root).map_err(|e| StoreError::io(root, e))?;
            let text = toml::to_string(&StoreMarker { schema_version: SCHEMA_VERSION }).expect("serialises");
            write_atomically(&marker, text.as_bytes())?;
        }
        Self::open(root)
    }

    /// Opens an existing store.
    /// The store's directory; other stages keep their own files under it (e.g. `forecasts/`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let marker = root.join(MARKER);
        let text = fs::read_to_string(&marker).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotAStore(root.to_owned()),
            _ => StoreError::io(&marker, e),
        })?;
        let parsed: StoreMarker = toml::from_str(&text)
            .map_err(|e| StoreError::Corrupt { path: marker.clone(), message: e.to_string() })?;
        if !(OLDEST_READABLE_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&parsed.schema_version) {
            return Err(StoreError::SchemaVersion { path: marker, found: parsed.schema_version, supported: SCHEMA_VERSION });
        }
        if parsed.schema_version < SCHEMA_VERSION {
            // Older part files stay as they are (a column they lack reads as null); the marker
            // says the store may now hold files of this version, which older builds refuse.
            let text = toml::to_string(&StoreMarker { schema_version: SCHEMA_VERSION }).expect("serialises");
            write_atomically(&marker, text.as_bytes())?;
        }
        Ok(Self { root: root.to_owned() })
    }

    fn lock(&self) -> Result<WriterLock, StoreError> {
        let path = self.root.join(LOCK);
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| StoreError::io(&path, e))?;
        file.lock().map_err(|e| StoreError::io(&path, e))?;
        txn::recover(&self.root)?;
        Ok(WriterLock(file))
    }

    fn tenant_path(&self, tenant: &TenantId) -> PathBuf {
        self.root.join(TENANTS).join(format!("{tenant}.toml"))
    }

    /// The tenant's time zone, as registered by its first import.
    pub fn tenant_zone(&self, tenant: &TenantId) -> Result<TenantZone, StoreError> {
        let path = self.tenant_path(tenant);
        let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::UnknownTenant(tenant.clone()),
            _ => StoreError::io(&path, e),
        })?;
        let file: TenantFile =
            toml::from_str(&text).map_err(|e| StoreError::Corrupt { path: path.clone(), message: e.to_string() })?;
        TenantZone::parse(&file.time_zone).map_err(|e| StoreError::Corrupt { path, message: e.to_string() })
    }

    /// Registers a tenant with its zone; a tenant already registered must keep its zone.
    pub fn ensure_tenant(&self, tenant: &TenantId, zone: TenantZone) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        match self.tenant_zone(tenant) {
            Ok(existing) if existing == zone => Ok(()),
            Ok(existing) => Err(StoreError::ZoneConflict { tenant: tenant.clone(), existing, requested: zone }),
            Err(StoreError::UnknownTenant(_)) => {
                let dir = self.root.join(TENANTS);
                fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
                let text = toml::to_string(&TenantFile { time_zone: zone.name().to_owned() }).expect("serialises");
                write_atomically(&self.tenant_path(tenant), text.as_bytes())
            }
            Err(e) => Err(e),
        }
    }

    /// Tenants registered in the store, sorted.
    pub fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let dir = self.root.join(TENANTS);
        let Ok(entries) = fs::read_dir(&dir) else { return Ok(Vec::new()) };
        let mut tenants = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| StoreError::io(&dir, e))?.file_name();
            if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".toml"))
                && let Ok(t) = TenantId::parse(stem)
            {
                tenants.push(t);
            }
        }
        tenants.sort();
        Ok(tenants)
    }

    /// Appends records of one tenant in one atomic change, skipping those already stored
    /// (calls by `call_id`, agent states by agent, state and start). Every record must be valid.
    pub fn append(
        &self,
        tenant: &TenantId,
        calls: &[CallRecord],
        states: &[AgentStateEvent],
    ) -> Result<AppendReport, StoreError> {
        for (i, c) in calls.iter().enumerate() {
            c.validate().map_err(|e| StoreError::InvalidRecord { index: i, key: c.call_id.clone(), error: e })?;
        }
        for (i, s) in states.iter().enumerate() {
            s.validate().map_err(|e| StoreError::InvalidRecord { index: i, key: s.agent_id.to_string(), error: e })?;
        }
        let _lock = self.lock()?;
        let zone = self.tenant_zone(tenant)?;
        let mut report = AppendReport::default();
        let mut txn = Txn::begin(&self.root)?;
        let mut touched = Vec::new();
        let result = (|| {
            let calls_by_day = group_by_day(calls, |c| zone.local_date(c.arrived_at));
            for (date, day_calls) in calls_by_day {
                let partition = Partition { dataset_dir: Dataset::Calls.dir_name(), tenant: tenant.to_string(), date };
                let stored = self.partition_call_ids(&partition)?;
                let mut batch: HashSet<&str> = HashSet::with_capacity(day_calls.len());
                let mut fresh: Vec<&CallRecord> = day_calls
                    .into_iter()
                    .filter(|c| !stored.contains(c.call_id.as_str()) && batch.insert(c.call_id.as_str()))
                    .collect();
                report.calls_written += fresh.len();
                if fresh.is_empty() {
                    continue;
                }
                sort_calls(&mut fresh);
                self.stage_frame(&mut txn, &partition, calls_to_frame(&fresh))?;
                report.files_written += 1;
                touched.push(partition);
            }
            report.calls_duplicate = calls.len() - report.calls_written;
            let states_by_day = group_by_day(states, |s| zone.local_date(s.started_at));
            for (date, day_states) in states_by_day {
                let partition = Partition { dataset_dir: Dataset::AgentStates.dir_name(), tenant: tenant.to_string(), date };
                let stored = self.partition_state_keys(&partition)?;
                let mut batch: HashSet<(&str, &str, i64)> = HashSet::with_capacity(day_states.len());
                let mut fresh: Vec<&AgentStateEvent> = day_states
                    .into_iter()
                    .filter(|s| {
                        let key = (s.agent_id.as_str(), s.state.as_str(), s.started_at.timestamp_millis());
                        !stored.get(key.0).is_some_and(|starts| starts.contains(&(key.1.to_owned(), key.2)))
                            && batch.insert(key)
                    })
                    .collect();
                report.states_written += fresh.len();
                if fresh.is_empty() {
                    continue;
                }
                sort_states(&mut fresh);
                self.stage_frame(&mut txn, &partition, states_to_frame(&fresh))?;
                report.files_written += 1;
                touched.push(partition);
            }
            report.states_duplicate = states.len() - report.states_written;
            Ok(())
        })();
        match result {
            Ok(()) if !txn.is_empty() => txn.commit()?,
            Ok(()) => txn.abort(),
            Err(e) => {
                txn.abort();
                return Err(e);
            }
        }
        for partition in touched {
            if self.part_files(&partition)?.len() > COMPACT_AFTER_PARTS {
                self.compact_partition(&partition)?;
                report.partitions_compacted += 1;
            }
        }
        Ok(report)
    }

    /// Rewrites every partition holding more than one part file as a single file.
    pub fn compact(&self, tenant: Option<&TenantId>) -> Result<usize, StoreError> {
        let _lock = self.lock()?;
        self.compact_locked(tenant, 1)
    }

    fn compact_locked(&self, tenant: Option<&TenantId>, more_than: usize) -> Result<usize, StoreError> {
        let mut compacted = 0;
        for dataset in [Dataset::Calls, Dataset::AgentStates] {
            for partition in self.partitions(dataset, tenant, None)? {
                if self.part_files(&partition)?.len() > more_than {
                    self.compact_partition(&partition)?;
                    compacted += 1;
                }
            }
        }
        Ok(compacted)
    }

    /// Replaces a partition's part files by one, sorted, in one atomic change.
    fn compact_partition(&self, partition: &Partition) -> Result<(), StoreError> {
        let parts = self.part_files(partition)?;
        let frame = if partition.dataset_dir == Dataset::Calls.dir_name() {
            let all = self.read_partition_calls(partition)?;
            let mut refs: Vec<&CallRecord> = all.iter().collect();
            sort_calls(&mut refs);
            calls_to_frame(&refs)
        } else {
            let all = self.read_partition_states(partition)?;
            let mut refs: Vec<&AgentStateEvent> = all.iter().collect();
            sort_states(&mut refs);
            states_to_frame(&refs)
        };
        let mut txn = Txn::begin(&self.root)?;
        self.stage_frame(&mut txn, partition, frame)?;
        for part in parts {
            txn.remove(part.strip_prefix(&self.root).expect("inside the store").to_owned());
        }
        txn.commit()
    }

    fn stage_frame(&self, txn: &mut Txn, partition: &Partition, mut frame: DataFrame) -> Result<(), StoreError> {
        let next = self.part_files(partition)?.iter().filter_map(|p| part_number(p)).max().map_or(1, |n| n + 1);
        let final_rel = partition.rel_dir().join(format!("part-{next:06}.parquet"));
        let staged = txn.stage(final_rel);
        let file = File::create(&staged).map_err(|e| StoreError::io(&staged, e))?;
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut frame)
            .map_err(|e| StoreError::Parquet { path: staged.clone(), message: e.to_string() })?;
        Ok(())
    }

    /// Partitions of a dataset, optionally of one tenant and within a range of dates.
    fn partitions(
        &self,
        dataset: Dataset,
        tenant: Option<&TenantId>,
        dates: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Vec<Partition>, StoreError> {
        let base = self.root.join(dataset.dir_name());
        let mut out = Vec::new();
        for tenant_dir in list_dir(&base)? {
            let Some(t) = hive_value(&tenant_dir, "tenant") else { continue };
            if tenant.is_some_and(|want| want.as_str() != t) {
                continue;
            }
            for date_dir in list_dir(&tenant_dir)? {
                let Some(date) = hive_value(&date_dir, "date").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()) else {
                    continue;
                };
                if dates.is_some_and(|(from, to)| date < from || date > to) {
                    continue;
                }
                out.push(Partition { dataset_dir: dataset.dir_name(), tenant: t.clone(), date });
            }
        }
        out.sort();
        Ok(out)
    }

    fn part_files(&self, partition: &Partition) -> Result<Vec<PathBuf>, StoreError> {
        let mut files: Vec<PathBuf> = list_dir(&self.root.join(partition.rel_dir()))?
            .into_iter()
            .filter(|p| part_number(p).is_some())
            .collect();
        files.sort();
        Ok(files)
    }

    /// The part files that may hold records of `tenant` for the local dates of `range`.
    ///
    /// Partitions are cut by the date a call arrived, and a call is counted by when it
    /// queued, so the day before the range is included; callers filter by timestamp.
    pub fn files_for(&self, dataset: Dataset, tenant: &TenantId, range: LocalDateRange) -> Result<Vec<PathBuf>, StoreError> {
        let dates = (range.from - Duration::days(1), range.to);
        let mut files = Vec::new();
        for partition in self.partitions(dataset, Some(tenant), Some(dates))? {
            files.extend(self.part_files(&partition)?);
        }
        Ok(files)
    }

    /// What the store holds of `tenant` for the local dates of `range`, as one number that
    /// changes whenever an append or a compaction changes those dates. Part files are never
    /// rewritten and their numbers never reused, so the list of their names is the version.
    pub fn version_of(&self, tenant: &TenantId, range: LocalDateRange) -> Result<StoreVersion, StoreError> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for dataset in [Dataset::Calls, Dataset::AgentStates] {
            self.files_for(dataset, tenant, range)?.hash(&mut hasher);
        }
        Ok(StoreVersion(hasher.finish()))
    }

    /// The local dates in `range` that hold data of the tenant, in order.
    pub fn dates_with_data(&self, dataset: Dataset, tenant: &TenantId, range: LocalDateRange) -> Result<Vec<NaiveDate>, StoreError> {
        let mut dates: Vec<NaiveDate> = self
            .partitions(dataset, Some(tenant), Some((range.from, range.to)))?
            .into_iter()
            .map(|p| p.date)
            .filter(|d| *d >= range.from && *d < range.to)
            .collect();
        dates.sort();
        dates.dedup();
        Ok(dates)
    }

    fn partition_call_ids(&self, partition: &Partition) -> Result<HashSet<String>, StoreError> {
        let mut ids = HashSet::new();
        for path in self.part_files(partition)? {
            let df = read_parquet(&path, Some(&[call_columns::CALL_ID]))?;
            let column = ColumnReader { df: &df, path: &path }.text(call_columns::CALL_ID)?;
            ids.extend(column.iter().flatten().map(str::to_owned));
        }
        Ok(ids)
    }

    /// The (state, start) of every stored period of a partition, by agent.
    fn partition_state_keys(&self, partition: &Partition) -> Result<HashMap<String, HashSet<(String, i64)>>, StoreError> {
        use state_columns::{AGENT_ID, STARTED_AT, STATE};
        let mut keys: HashMap<String, HashSet<(String, i64)>> = HashMap::new();
        for path in self.part_files(partition)? {
            let df = read_parquet(&path, Some(&[AGENT_ID, STATE, STARTED_AT]))?;
            let r = ColumnReader { df: &df, path: &path };
            let (agent, state, started) = (r.text(AGENT_ID)?, r.text(STATE)?, r.timestamp_ms(STARTED_AT)?);
            for ((a, s), t) in agent.iter().zip(state.iter()).zip(started.iter()) {
                if let (Some(a), Some(s), Some(t)) = (a, s, t) {
                    keys.entry(a.to_owned()).or_default().insert((s.to_owned(), t));
                }
            }
        }
        Ok(keys)
    }

    fn read_partition_calls(&self, partition: &Partition) -> Result<Vec<CallRecord>, StoreError> {
        let mut out = Vec::new();
        for path in self.part_files(partition)? {
            out.extend(calls_from_frame(&read_parquet(&path, None)?, &path)?);
        }
        Ok(out)
    }

    fn read_partition_states(&self, partition: &Partition) -> Result<Vec<AgentStateEvent>, StoreError> {
        let mut out = Vec::new();
        for path in self.part_files(partition)? {
            out.extend(states_from_frame(&read_parquet(&path, None)?, &path)?);
        }
        Ok(out)
    }

    /// Every agent-state period of a tenant that started on the local dates of `range`.
    pub fn read_states(&self, tenant: &TenantId, range: LocalDateRange) -> Result<Vec<AgentStateEvent>, StoreError> {
        let mut out = Vec::new();
        for partition in self.partitions(Dataset::AgentStates, Some(tenant), Some((range.from, range.to - Duration::days(1))))? {
            out.extend(self.read_partition_states(&partition)?);
        }
        Ok(out)
    }

    /// Every call of a tenant that arrived on the local dates of `range` (tests, exports).
    pub fn read_calls(&self, tenant: &TenantId, range: LocalDateRange) -> Result<Vec<CallRecord>, StoreError> {
        let mut out = Vec::new();
        for partition in self.partitions(Dataset::Calls, Some(tenant), Some((range.from, range.to - Duration::days(1))))? {
            out.extend(self.read_partition_calls(&partition)?);
        }
        Ok(out)
    }
}

/// Reads a part file, optionally only some columns.
pub fn read_parquet(path: &Path, columns: Option<&[&str]>) -> Result<DataFrame, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    ParquetReader::new(file)
        .with_columns(columns.map(|c| c.iter().map(|s| s.to_string()).collect()))
        .finish()
        .map_err(|e| StoreError::Parquet { path: path.to_owned(), message: e.to_string() })
}

fn group_by_day<T>(records: &[T], day: impl Fn(&T) -> NaiveDate) -> BTreeMap<NaiveDate, Vec<&T>> {
    let mut out: BTreeMap<NaiveDate, Vec<&T>> = BTreeMap::new();
    for r in records {
        out.entry(day(r)).or_default().push(r);
    }
    out
}

/// Calls sorted by queue then queue entry: runs of one queue make statistics cheap and compress well.
fn sort_calls(calls: &mut [&CallRecord]) {
    calls.sort_by(|a, b| {
        (&a.queue, a.queued_at.unwrap_or(a.arrived_at), &a.call_id).cmp(&(&b.queue, b.queued_at.unwrap_or(b.arrived_at), &b.call_id))
    });
}

fn sort_states(states: &mut [&AgentStateEvent]) {
    states.sort_by(|a, b| (&a.agent_id, a.started_at, a.state).cmp(&(&b.agent_id, b.started_at, b.state)));
}

fn part_number(path: &Path) -> Option<u64> {
    path.file_name()?.to_str()?.strip_prefix("part-")?.strip_suffix(".parquet")?.parse().ok()
}

fn hive_value(dir: &Path, key: &str) -> Option<String> {
    let name = dir.file_name()?.to_str()?;
    name.strip_prefix(key)?.strip_prefix('=').map(str::to_owned)
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    match fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.map(|e| e.path()).map_err(|e| StoreError::io(dir, e))).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| StoreError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfm_model::{Channel, Direction, ExitReason};

    fn call(id: &str, sip_call_id: Option<&str>, recording: Option<&str>) -> CallRecord {
        let at = chrono::DateTime::from_timestamp_millis(1_800_000_000_000).unwrap();
        CallRecord {
            call_id: id.into(),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: Some("555".into()),
            dialled_number: None,
            queue: None,
            priority: 0,
            arrived_at: at,
            queued_at: None,
            answered_at: None,
            ended_at: at,
            wait_ms: None,
            abandoned: false,
            exit_reason: ExitReason::NotQueued,
            agent_id: None,
            ring_ms: 0,
            talk_ms: 0,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            disposition: None,
            ivr_path: None,
            sip_call_id: sip_call_id.map(str::to_owned),
            recording: recording.map(str::to_owned),
        }
    }

    #[test]
    fn a_store_of_schema_version_1_is_read_as_it_is_and_marked_with_this_version() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let store = Store::create_or_open(&root).unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        store.ensure_tenant(&tenant, TenantZone::utc()).unwrap();
        store.append(&tenant, &[call("old", None, None)], &[]).unwrap();
        // Made as version 1 wrote it: no `sip_call_id` nor `recording` column, the marker at 1.
        let partition = store.partitions(Dataset::Calls, Some(&tenant), None).unwrap().remove(0);
        let part = store.part_files(&partition).unwrap().remove(0);
        let mut v1 = read_parquet(&part, None).unwrap().drop(call_columns::SIP_CALL_ID).unwrap().drop(call_columns::RECORDING).unwrap();
        ParquetWriter::new(File::create(&part).unwrap()).finish(&mut v1).unwrap();
        fs::write(root.join(MARKER), "schema_version = 1\n").unwrap();

        let store = Store::open(&root).unwrap();
        assert!(fs::read_to_string(root.join(MARKER)).unwrap().contains("schema_version = 3"));
        let new = call("new", Some("abc@phone"), Some("/data/recordings/new.wav"));
        store.append(&tenant, std::slice::from_ref(&new), &[]).unwrap();
        let range = LocalDateRange::parse("2027-01-01", "2027-02-01").unwrap();
        let mut calls = store.read_calls(&tenant, range).unwrap();
        calls.sort_by(|a, b| a.call_id.cmp(&b.call_id));
        assert_eq!(calls, [new, call("old", None, None)]);

        fs::write(root.join(MARKER), "schema_version = 4\n").unwrap();
        assert!(matches!(Store::open(&root), Err(StoreError::SchemaVersion { found: 4, .. })));
    }
}
