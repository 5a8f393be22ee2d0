use std::path::PathBuf;
use std::time::Duration;

use domain::Email;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends email through lettre: over SMTP when `[mail] smtp_url` is set, otherwise into the
/// outbox directory as `.eml` files (development and tests, where a page lists them).
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Clone)]
enum Transport {
    Outbox {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("cannot build message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("cannot write to the outbox: {0}")]
    File(#[from] lettre::transport::file::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot use outbox {0}: {1}")]
    Outbox(String, std::io::Error),
}

/// One message in the development outbox, for the page that lists them.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub file_name: String,
    pub modified: std::time::SystemTime,
    pub raw: String,
}

impl Mailer {
    pub fn outbox(dir: impl Into<PathBuf>, from: &str) -> Result<Self, MailError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| MailError::Outbox(dir.display().to_string(), e))?;
        Ok(Self {
            transport: Transport::Outbox {
                transport: AsyncFileTransport::new(&dir),
                dir,
            },
            from: from.parse()?,
        })
    }

    /// SMTP from a URL such as `smtps://user:password@smtp.example.com:465` or
    /// `smtp://smtp.example.com:587?tls=required` (lettre's connection URL format).
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self {
            transport: Transport::Smtp(transport),
            from: from.parse()?,
        })
    }

    /// The development outbox directory, when mail goes there instead of to SMTP.
    pub fn outbox_dir(&self) -> Option<&std::path::Path> {
        match &self.transport {
            Transport::Outbox { dir, .. } => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    pub async fn send(&self, to: &Email, subject: &str, body: String) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            // An address, never a mailbox string: a display-name form would send elsewhere.
            .to(Mailbox::new(None, to.as_str().parse::<lettre::Address>()?))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        match &self.transport {
            Transport::Outbox { transport, .. } => {
                transport.send(message).await?;
            }
            Transport::Smtp(transport) => {
                transport.send(message).await?;
            }
        }
        Ok(())
    }

    /// The newest `limit` messages of the development outbox (none when mail goes to SMTP).
    pub async fn outbox_messages(&self, limit: usize) -> Vec<OutboxMessage> {
        let Some(dir) = self.outbox_dir().map(PathBuf::from) else {
            return Vec::new();
        };
        let read = tokio::task::spawn_blocking(move || {
            let mut found: Vec<OutboxMessage> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|entry| {
                    let modified = entry.metadata().ok()?.modified().ok()?;
                    let raw = std::fs::read_to_string(entry.path()).ok()?;
                    Some(OutboxMessage {
                        file_name: entry.file_name().to_string_lossy().into_owned(),
                        modified,
                        raw,
                    })
                })
                .collect();
            found.sort_by_key(|m| std::cmp::Reverse(m.modified));
            found.truncate(limit);
            found
        });
        read.await.unwrap_or_default()
    }
}

/// A message as it was written: headers, a blank line, then the body with quoted-printable
/// soft line breaks and escapes undone, for people to read on the outbox page.
pub fn readable(raw: &str) -> (Vec<(String, String)>, String) {
    let normalized = raw.replace("\r\n", "\n");
    let (head, body) = normalized
        .split_once("\n\n")
        .unwrap_or((normalized.as_str(), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line.trim_start());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let quoted = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("Content-Transfer-Encoding")
            && value.eq_ignore_ascii_case("quoted-printable")
    });
    let body = if quoted {
        decode_quoted_printable(body)
    } else {
        body.to_owned()
    };
    (headers, body)
}

fn decode_quoted_printable(body: &str) -> String {
    match quoted_printable::decode(body, quoted_printable::ParseMode::Robust) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).replace("\r\n", "\n"),
        Err(_) => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_messages_read_as_plain_text() {
        let raw = "From: a@b.test\r\nSubject: Hello\r\n there\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLink: http://x.test/invite/ab=\r\ncd =3D done\r\n";
        let (headers, body) = readable(raw);
        assert_eq!(headers[1], ("Subject".into(), "Hellothere".into()));
        assert_eq!(body, "Link: http://x.test/invite/abcd = done\n");
    }
}
