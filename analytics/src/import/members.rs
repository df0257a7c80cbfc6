//! Asterisk queue members are interfaces (`SIP/2001`, `PJSIP/2001`, `Agent/2001`,
//! `Local/2001@from-internal/n`); rosters and the ACD name agents (`2001`). The default rule
//! takes the id out of the interface; a site whose member names differ gives a map file
//! (`interface,agent_id`), whose entries win over the rule.

use super::LineError;
use std::collections::HashMap;
use std::path::Path;
use wfm_model::AgentId;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberMap {
    explicit: HashMap<String, AgentId>,
}

impl MemberMap {
    /// Reads `interface,agent_id` lines (a header line with those names is required).
    pub fn parse_csv(path: &Path, text: &str) -> Result<Self, LineError> {
        let fail = |line: u64, field: &str, message: String| LineError { file: path.to_owned(), line, field: field.to_owned(), message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l.trim_end_matches('\r')));
        match lines.next() {
            Some((_, header)) if header.split(',').map(str::trim).eq(["interface", "agent_id"]) => {}
            _ => return Err(fail(1, "", "the first line must be the header `interface,agent_id`".into())),
        }
        let mut explicit = HashMap::new();
        for (number, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let Some((interface, agent)) = line.split_once(',') else {
                return Err(fail(number, "agent_id", "expected two fields, `interface,agent_id`".into()));
            };
            let interface = interface.trim();
            if interface.is_empty() {
                return Err(fail(number, "interface", "empty".into()));
            }
            let agent = AgentId::parse(agent.trim()).map_err(|e| fail(number, "agent_id", e.to_string()))?;
            if explicit.insert(interface.to_owned(), agent).is_some() {
                return Err(fail(number, "interface", format!("{interface:?} is mapped twice")));
            }
        }
        Ok(Self { explicit })
    }

    /// The agent id of a member interface: the map's entry, else the default rule —
    /// `Local/ID@context[/…]` → `ID`, `TECH/ID` → `ID`, anything else as it is.
    pub fn agent_id(&self, interface: &str) -> Result<AgentId, wfm_model::IdentifierError> {
        if let Some(id) = self.explicit.get(interface) {
            return Ok(id.clone());
        }
        AgentId::parse(default_agent_id(interface))
    }
}

fn default_agent_id(interface: &str) -> &str {
    let Some((tech, rest)) = interface.split_once('/') else { return interface };
    let is_tech = !tech.is_empty() && tech.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_tech || rest.is_empty() {
        return interface;
    }
    if tech.eq_ignore_ascii_case("local") {
        let id = rest.split(['@', '/']).next().unwrap_or(rest);
        return if id.is_empty() { interface } else { id };
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_map_to_their_agent_ids() {
        let map = MemberMap::default();
        for (interface, id) in [
            ("Agent/2001", "2001"),
            ("SIP/2001", "2001"),
            ("PJSIP/2001", "2001"),
            ("IAX2/2001", "2001"),
            ("Local/2001@from-internal/n", "2001"),
            ("Local/9990@MemberConnector", "9990"),
            ("Alice", "Alice"),
            ("Anna Nowak", "Anna Nowak"),
        ] {
            assert_eq!(map.agent_id(interface).unwrap().as_str(), id, "{interface}");
        }
    }

    #[test]
    fn a_map_file_wins_and_is_checked() {
        let path = Path::new("members.csv");
        let map = MemberMap::parse_csv(path, "interface,agent_id\nSIP/anna-desk,2001\nLocal/7@x,ops.lead\n").unwrap();
        assert_eq!(map.agent_id("SIP/anna-desk").unwrap().as_str(), "2001");
        assert_eq!(map.agent_id("Local/7@x").unwrap().as_str(), "ops.lead");
        assert_eq!(map.agent_id("PJSIP/3001").unwrap().as_str(), "3001", "the rule still applies to the rest");
        let e = MemberMap::parse_csv(path, "interface,agent_id\nSIP/1,1;2\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "agent_id"));
        let e = MemberMap::parse_csv(path, "interface,agent_id\nSIP/1,1\nSIP/1,2\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "interface"));
        assert!(MemberMap::parse_csv(path, "who,agent\n").is_err());
    }
}
