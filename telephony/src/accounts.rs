//! Agents' SIP accounts: user (the agent id) and password, kept in `DATA/sip-accounts.toml`.
//! An agent without an account (on first start, the demo tenant's `1001`–`1010`) gets a random
//! password, written there (readable by the owner only) so that the operator can read it and
//! phones keep working across restarts.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub const FILE: &str = "sip-accounts.toml";
pub const DEMO_AGENTS: std::ops::RangeInclusive<u32> = 1001..=1010;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("no random numbers from the system: {0}")]
    Random(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    agents: BTreeMap<String, String>,
}

/// The accounts, and those this start created (so the caller prints them once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    pub passwords: BTreeMap<String, String>,
    pub created: Vec<String>,
}

impl Accounts {
    pub fn by_user(&self) -> HashMap<String, String> {
        self.passwords.clone().into_iter().collect()
    }
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AccountsError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountsError::Random(e.to_string()))?;
    Ok(bytes)
}

/// `N` random bytes from the operating system, in hexadecimal: passwords and tokens.
pub fn random_hex<const N: usize>() -> Result<String, AccountsError> {
    Ok(crate::sip::digest::hex(&random_bytes::<N>()?))
}

/// Reads the accounts of `data`, creating those of `agents` that have none. With `password`,
/// every agent uses it instead (for tests and sipp) and nothing is written.
pub fn load_or_create(data: &Path, password: Option<&str>, agents: &[String]) -> Result<Accounts, AccountsError> {
    if let Some(password) = password {
        return Ok(Accounts { passwords: agents.iter().map(|a| (a.clone(), password.to_owned())).collect(), created: Vec::new() });
    }
    let path = data.join(FILE);
    let mut passwords = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: File = toml::from_str(&text).map_err(|e| AccountsError::Format { path: path.clone(), message: e.to_string() })?;
            if let Some((user, _)) = file.agents.iter().find(|(_, p)| p.is_empty()) {
                return Err(AccountsError::Format { path, message: format!("agents.{user}: empty password") });
            }
            file.agents
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(source) => return Err(AccountsError::Io { path, source }),
    };
    let missing: Vec<String> = agents.iter().filter(|a| !passwords.contains_key(*a)).cloned().collect();
    if missing.is_empty() {
        return Ok(Accounts { passwords, created: missing });
    }
    for agent in &missing {
        passwords.insert(agent.clone(), random_hex::<9>()?);
    }
    let text = format!("# SIP accounts of the agents: user = password. Kept by wfm serve.\n{}", toml::to_string(&File { agents: passwords.clone() }).expect("a map of strings serialises"));
    write_private(&path, &text).map_err(|source| AccountsError::Io { path: path.clone(), source })?;
    Ok(Accounts { passwords, created: missing })
}

/// Writes `text` to `path` readable by the owner only, replacing the file through a rename so a
/// crash leaves the old accounts or the new, never half of them.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("toml.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("wfm-accounts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let demo: Vec<String> = DEMO_AGENTS.map(|a| a.to_string()).collect();
        let first = load_or_create(&dir, None, &demo).unwrap();
        assert!(first.created.len() == 10 && first.passwords.len() == 10 && first.passwords["1001"].len() == 18);
        let again = load_or_create(&dir, None, &demo).unwrap();
        assert_eq!((again.created.len(), &again.passwords), (0, &first.passwords));
        let more = load_or_create(&dir, None, &["1001".to_owned(), "2001".to_owned()]).unwrap();
        assert_eq!((more.created, &more.passwords["1001"], more.passwords.len()), (vec!["2001".to_owned()], &first.passwords["1001"], 11), "new agents get one, old ones keep theirs");
        assert_eq!(load_or_create(&dir, Some("pw"), &demo).unwrap().passwords["1010"], "pw");
        std::fs::write(dir.join(FILE), "[agents]\n1001 = \"\"\n").unwrap();
        assert!(load_or_create(&dir, None, &demo).unwrap_err().to_string().contains("agents.1001: empty password"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
