//! Alarms sent out: e-mail by SMTP (`lettre`, plain SMTP to the site's relay) on each raise and
//! escalation, and every change POSTed to the tenant's webhook with an HMAC-SHA256 signature of
//! the body (`X-WFM-Signature: sha256=HEX`). What cannot be delivered is said on the log and the
//! event stream; the alarm itself is kept regardless. Customers of deferred cases are told by the
//! tenant's SMS hook (`send_sms`).

use hmac::{KeyInit, Mac};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wfm_intraday::alarms::{Alarm, Change, Delivery, Email, Webhook};
use wfm_intraday::incidents::Sms;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The hex HMAC-SHA256 of `body` with `secret`, as the webhook's receiver checks it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// What is mailed besides the webhook's POST.
pub enum Letter {
    /// An alarm's raise and escalation, to the agent, supervisors and (level 2) managers.
    Alarm(Change, Alarm),
    /// A notice of the surge ladder or an incident to the people of a list (`email.people`).
    Notice { who: Vec<String>, subject: String, body: String },
}

/// POSTs `event` (an alarm's, escalation step's or incident's event-stream JSON) to the tenant's
/// webhook and mails `letter`, as the tenant's `alarms.toml` says; the errors of what could not
/// be delivered.
pub async fn deliver(delivery: &Delivery, tenant: &str, event: &serde_json::Value, letter: Option<&Letter>) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(hook) = &delivery.webhook
        && let Err(e) = post(hook, event.to_string().as_bytes()).await
    {
        errors.push(format!("webhook {}: {e}", hook.url));
    }
    let Some(email) = &delivery.email else { return errors };
    let sent = match letter {
        Some(Letter::Alarm(Change::Raised | Change::Escalated, alarm)) => send_mail(email, &email.addresses(alarm), &alarm_subject(tenant, alarm), &alarm_body(tenant, alarm)).await,
        Some(Letter::Notice { who, subject, body }) => send_mail(email, &email.addresses_of(who), &format!("[wfm {tenant}] {subject}"), body).await,
        _ => Ok(()),
    };
    if let Err(e) = sent {
        errors.push(format!("e-mail via {}:{}: {e}", email.smtp_host, email.smtp_port));
    }
    errors
}

fn alarm_subject(tenant: &str, alarm: &Alarm) -> String {
    format!("[wfm {tenant}] level {} alarm: {}", alarm.level, alarm.message)
}

fn alarm_body(tenant: &str, alarm: &Alarm) -> String {
    let raised = chrono::DateTime::from_timestamp_millis(alarm.raised_ms).unwrap_or_default().to_rfc3339();
    format!(
        "{}\n\nrule: {}\nsubject: {}\nlevel: {}\nraised: {raised}\nalarm id: {}\n\nAcknowledge it in wfm (POST /api/v1/tenants/{tenant}/alarms/{}/ack) to stop its escalation.\n",
        alarm.message, alarm.rule, alarm.subject, alarm.level, alarm.id, alarm.id
    )
}

/// One HTTP/1.1 POST; a 2xx answer is delivery.
async fn post(hook: &Webhook, body: &[u8]) -> Result<(), String> {
    let rest = hook.url.strip_prefix("http://").ok_or("not an http:// URL")?;
    let (host_port, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host_port).await.map_err(|e| e.to_string())?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-WFM-Signature: sha256={}\r\nConnection: close\r\n\r\n",
            body.len(),
            signature(&hook.secret, body)
        );
        stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        stream.write_all(body).await.map_err(|e| e.to_string())?;
        let mut answer = vec![0u8; 512];
        let n = stream.read(&mut answer).await.map_err(|e| e.to_string())?;
        let status_line = String::from_utf8_lossy(&answer[..n]).lines().next().unwrap_or_default().to_owned();
        match status_line.split_whitespace().nth(1) {
            Some(code) if code.starts_with('2') => Ok(()),
            _ => Err(format!("answered {status_line:?}")),
        }
    };
    tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| "no answer within 10 s".to_owned())?
}

/// Tells a customer by the tenant's SMS hook (`[sms]` of `incidents.toml`): its webhook
/// POSTed `{"to", "message", "incident", "case"}`, or its command run with the number and the
/// message as the last two arguments (exit status 0 within 10 s is delivery).
pub async fn send_sms(sms: &Sms, tenant: &str, incident: &str, case: u32, to: &str, message: &str) -> Result<(), String> {
    match sms {
        Sms::Webhook(hook) => {
            let body = serde_json::json!({ "tenant": tenant, "to": to, "message": message, "incident": incident, "case": case });
            post(hook, body.to_string().as_bytes()).await
        }
        Sms::Command(command) => {
            let mut child = std::process::Command::new(&command[0])
                .args(&command[1..])
                .args([to, message])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("{}: {e}", command[0]))?;
            let deadline = std::time::Instant::now() + TIMEOUT;
            loop {
                match child.try_wait().map_err(|e| e.to_string())? {
                    Some(status) if status.success() => return Ok(()),
                    Some(status) => {
                        let mut stderr = String::new();
                        if let Some(mut e) = child.stderr.take() {
                            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                        }
                        return Err(format!("{} exited with {status}: {}", command[0], stderr.trim()));
                    }
                    None if std::time::Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!("{} did not finish within 10 s", command[0]));
                    }
                    None => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }
    }
}

/// One message to `to` through the tenant's relay (nothing to send without addresses).
async fn send_mail(email: &Email, to: &[String], subject: &str, body: &str) -> Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    if to.is_empty() {
        return Ok(());
    }
    let mut message = Message::builder().from(email.from.parse().map_err(|e| format!("from: {e}"))?).subject(subject);
    for address in to {
        message = message.to(address.parse().map_err(|e| format!("{address}: {e}"))?);
    }
    let message = message.body(body.to_owned()).map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.smtp_host).port(email.smtp_port).timeout(Some(TIMEOUT)).build();
    transport.send(message).await.map(drop).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(super::signature("Jefe", b"what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
