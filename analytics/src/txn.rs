//! Atomic, crash-safe changes to the store's files.
//!
//! A change stages its new files under `_txn/<id>/`, then writes a `COMMIT` manifest that lists
//! the files to move into place and the files to delete, then applies it. The manifest's rename
//! is the commit point: a crash before it leaves the store as it was (the staging folder is
//! deleted by the next writer), a crash after it is rolled forward by the next writer. Applying
//! a manifest twice is harmless, so recovery may itself crash and be retried.

use crate::StoreError;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) const TXN_DIR: &str = "_txn";
const MANIFEST: &str = "COMMIT";

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Manifest {
    /// (staged file name inside the txn folder, final path relative to the store root)
    adds: Vec<(String, PathBuf)>,
    /// paths relative to the store root
    removes: Vec<PathBuf>,
}

pub(crate) struct Txn {
    root: PathBuf,
    dir: PathBuf,
    manifest: Manifest,
}

impl Txn {
    pub(crate) fn begin(root: &Path) -> Result<Self, StoreError> {
        let id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let dir = root.join(TXN_DIR).join(id);
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(Self { root: root.to_owned(), dir, manifest: Manifest::default() })
    }

    /// A path to write a new file to; it appears at `final_rel` when the change commits.
    pub(crate) fn stage(&mut self, final_rel: PathBuf) -> PathBuf {
        let name = format!("{}.parquet", self.manifest.adds.len());
        let path = self.dir.join(&name);
        self.manifest.adds.push((name, final_rel));
        path
    }

    pub(crate) fn remove(&mut self, rel: PathBuf) {
        self.manifest.removes.push(rel);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.manifest.adds.is_empty() && self.manifest.removes.is_empty()
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        for (name, _) in &self.manifest.adds {
            sync_file(&self.dir.join(name))?;
        }
        let tmp = self.dir.join("COMMIT.tmp");
        let text = serde_json::to_vec(&self.manifest).expect("manifest serialises");
        let mut f = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(&text).and_then(|_| f.sync_all()).map_err(|e| StoreError::io(&tmp, e))?;
        let manifest = self.dir.join(MANIFEST);
        fs::rename(&tmp, &manifest).map_err(|e| StoreError::io(&manifest, e))?;
        sync_dir(&self.dir)?;
        apply(&self.root, &self.dir)
    }

    pub(crate) fn abort(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Finishes committed changes and discards uncommitted ones. Call with the writer lock held.
pub(crate) fn recover(root: &Path) -> Result<(), StoreError> {
    let txns = root.join(TXN_DIR);
    let Ok(entries) = fs::read_dir(&txns) else { return Ok(()) };
    for entry in entries {
        let dir = entry.map_err(|e| StoreError::io(&txns, e))?.path();
        if dir.join(MANIFEST).exists() {
            apply(root, &dir)?;
        } else {
            fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
    }
    Ok(())
}

fn apply(root: &Path, dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| StoreError::Corrupt { path: path.clone(), message: e.to_string() })?;
    let mut touched_dirs = Vec::new();
    for (name, final_rel) in &manifest.adds {
        let staged = dir.join(name);
        let target = root.join(final_rel);
        let parent = target.parent().expect("store paths have a parent").to_owned();
        if staged.exists() {
            fs::create_dir_all(&parent).map_err(|e| StoreError::io(&parent, e))?;
            fs::rename(&staged, &target).map_err(|e| StoreError::io(&target, e))?;
        }
        touched_dirs.push(parent);
    }
    for rel in &manifest.removes {
        let target = root.join(rel);
        match fs::remove_file(&target) {
            Ok(()) => touched_dirs.push(target.parent().expect("has parent").to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&target, e)),
        }
    }
    touched_dirs.sort();
    touched_dirs.dedup();
    for d in &touched_dirs {
        sync_dir(d)?;
    }
    fs::remove_dir_all(dir).map_err(|e| StoreError::io(dir, e))
}

fn sync_file(path: &Path) -> Result<(), StoreError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| StoreError::io(path, e))
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| StoreError::io(path, e))
}
